using System.Collections.Concurrent;
using System.Security.Cryptography;
using Federated.Core.Adapters;
using Federated.Protos.V1;
using Federated.Server.Tests.Infrastructure;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Federated.Server.Tests.Hostile;

/// <summary>
/// A seeded generator of hostile traffic against every RPC of a live coordinator: random bytes and mutated
/// encodings of valid messages, every field at its extremes, NaN and infinities, unknown, malformed and other
/// clients' ids, calls in the wrong order, upload streams cut or broken mid-way, replays and oversize input.
/// Message i is made from its own <see cref="Random"/>(seed, i), so a failing message can be replayed alone.
/// Hostile callers use their own ids ("hostile-N"): taking a real client's id is impersonation, which only
/// per-client credentials can stop (the trust issue), not input checks.
/// </summary>
public sealed class HostileTraffic(GrpcChannel clients, GrpcChannel unauthenticated, GrpcChannel operators, string realJobId, int maxChunkBytes)
{
    private const int Hostiles = 16;
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);
    private static readonly string[] CoordinatorUnary = ["Enrol", "Heartbeat", "PollTask", "ReportMetrics", "AbandonTask", "GetCatchUp", "GetUploadOffset"];
    private static readonly string[] OperatorUnary = ["CreateJob", "GetJob", "ListJobs"];

    private readonly Coordinator.CoordinatorClient _coordinator = new(clients);
    private readonly Operator.OperatorClient _operator = new(operators);
    private readonly ConcurrentDictionary<int, TrainingTask> _held = new();
    private readonly ConcurrentQueue<Func<CallOptions, Task>> _sent = new();

    /// <summary>Each reply's status, per RPC; a call our own side cut counts as "cut".</summary>
    public ConcurrentDictionary<(string Rpc, string Status), int> Outcomes { get; } = new();

    /// <summary>Replies that are not a defined status (Internal, Unknown, past the time bound, or not gRPC at all), with their message index.</summary>
    public ConcurrentBag<string> Undefined { get; } = [];

    public int Sent => Outcomes.Values.Sum();

    /// <summary>Enrols the hostile callers, so that much of the traffic gets past "not enrolled".</summary>
    public async Task EnrolAsync()
    {
        for (var h = 0; h < Hostiles; h++)
            await _coordinator.EnrolAsync(new EnrolRequest { ClientId = Hostile(h), Device = new DeviceProfile { Kind = DeviceKind.Cpu, CpuCores = 1, MemoryBytes = 1 << 30, MeasuredGflops = 1 } });
    }

    /// <summary>Sends messages <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1, <paramref name="parallel"/> at a time.</summary>
    public Task SendAsync(int seed, int first, int count, int parallel, TimeSpan bound)
        => Parallel.ForAsync(first, first + count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, _) => await SendOneAsync(seed, i, bound));

    private async Task SendOneAsync(int seed, int index, TimeSpan bound)
    {
        var random = new Random(HashCode.Combine(seed, index));
        var (rpc, call) = Choose(random, index);
        using var cut = new CancellationTokenSource();
        var options = new CallOptions(deadline: DateTime.UtcNow + bound, cancellationToken: cut.Token);
        if (random.Next(20) == 0)
            cut.CancelAfter(TimeSpan.FromMilliseconds(random.Next(1, 50))); // the caller goes away mid-call
        string status;
        try
        {
            await call(options);
            status = "OK";
            if (random.Next(4) == 0)
                _sent.Enqueue(call); // kept for a replay
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cut.IsCancellationRequested)
        {
            status = "cut";
        }
        catch (RpcException e) when (ConnectionReset(e))
        {
            // Kestrel ends the whole HTTP/2 connection when a stream breaks the protocol (data after the server
            // closed it): the hostile caller's own other calls on it fail, as HTTP/2 says, not anyone else's.
            status = "connection reset";
        }
        catch (RpcException e)
        {
            status = e.StatusCode.ToString();
            if (e.StatusCode is StatusCode.Internal or StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unavailable)
                Undefined.Add($"message {index} ({rpc}): {e.StatusCode}: {e.Status.Detail}");
        }
        catch (OperationCanceledException) when (cut.IsCancellationRequested)
        {
            status = "cut";
        }
        catch (HttpRequestException e) when (Causes(e).Any(EndsConnection) || cut.IsCancellationRequested)
        {
            status = "connection reset"; // an upload's own stream, ended by the server's connection error
        }
        catch (Exception e)
        {
            status = e.GetType().Name;
            Undefined.Add($"message {index} ({rpc}): {string.Join(" ← ", Causes(e).Select(c => $"{c.GetType().Name}: {c.Message}"))}");
        }
        Outcomes.AddOrUpdate((rpc, status), 1, (_, n) => n + 1);
    }

    /// <summary>
    /// The server ended this caller's own connection: an HTTP/2 connection error (see <see cref="SendOneAsync"/>),
    /// or Kestrel's guard against streams reset in bulk (the suite cuts many calls), which aborts the socket. A
    /// server that died would refuse connections instead, and the job and health checks after the traffic see it.
    /// </summary>
    private static bool ConnectionReset(RpcException e)
        => e.StatusCode is StatusCode.Internal or StatusCode.Unavailable && Causes(e.Status.DebugException).Any(EndsConnection);

    /// <summary>
    /// What the caller sees when the server closed its connection: a protocol error, the reply stream ended before
    /// its next frame (the calls that were in flight on the connection), or a reset or broken pipe on the socket.
    /// </summary>
    private static bool EndsConnection(Exception e)
        => e is HttpProtocolException
            or HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }
            or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset or System.Net.Sockets.SocketError.Shutdown or System.Net.Sockets.SocketError.ConnectionAborted };

    private static IEnumerable<Exception> Causes(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            yield return e;
    }

    private (string Rpc, Func<CallOptions, Task> Call) Choose(Random r, int index)
    {
        var h = r.Next(Hostiles);
        return r.Next(16) switch
        {
            0 => RawBytes(r),
            1 => ("Enrol", o => _coordinator.EnrolAsync(new EnrolRequest { ClientId = Id(r, h), Device = Device(r), ClientVersion = Text(r), Labels = { Labels(r) } }, o).ResponseAsync),
            2 => ("Heartbeat", o => _coordinator.HeartbeatAsync(new HeartbeatRequest { ClientId = Id(r, h), Activity = (ClientActivity)Int(r), TaskId = TaskId(r, h), Progress = Double(r) }, o).ResponseAsync),
            3 => ("PollTask", o => Poll(h, Id(r, h), Int(r), o)),
            4 => ("DownloadAdapter", o => Download(r, Id(r, h), o)),
            5 or 6 => ("UploadUpdate", o => Upload(r, h, o)),
            7 => r.Next(2) == 0 ? ("UploadUpdate", o => Upload(r, h, o)) : ("GetUploadOffset", o => UploadOffset(r, h, o)),
            8 => ("ReportMetrics", o => _coordinator.ReportMetricsAsync(new ReportMetricsRequest { ClientId = Id(r, h), JobId = JobId(r), Round = Int(r), TaskId = TaskId(r, h), Metrics = { Metrics(r) } }, o).ResponseAsync),
            9 => ("AbandonTask", o => Abandon(r, h, o)),
            10 => ("GetCatchUp", o => _coordinator.GetCatchUpAsync(new GetCatchUpRequest { ClientId = Id(r, h), JobId = JobId(r), Rank = Int(r), AfterRound = Int(r), ThroughRound = Int(r) }, o).ResponseAsync),
            11 => ("Operator", o => Operate(r, o)),
            12 => ("Unauthenticated", o => TestClients.Coordinator(unauthenticated).PollTaskAsync(new PollTaskRequest { ClientId = Hostile(h) }, o).ResponseAsync),
            13 => ("Replay", o => _sent.TryDequeue(out var again) ? again(o) : Task.CompletedTask),
            14 => ("WatchJob", o => Watch(r, o)),
            _ => ("PollTask", o => Poll(h, Hostile(h), 0, o)),
        };
    }

    /// <summary>Random bytes, or a valid message's encoding with bytes flipped, cut or added, to any unary RPC.</summary>
    private (string, Func<CallOptions, Task>) RawBytes(Random r)
    {
        var toOperator = r.Next(4) == 0;
        var name = toOperator ? OperatorUnary[r.Next(OperatorUnary.Length)] : CoordinatorUnary[r.Next(CoordinatorUnary.Length)];
        var bytes = r.Next(2) == 0 ? Bytes(r, r.Next(0, 2048)) : Mutated(r, new EnrolRequest { ClientId = Hostile(0), Device = Device(r) }.ToByteArray());
        var method = new Method<byte[], byte[]>(MethodType.Unary, toOperator ? "federated.v1.Operator" : "federated.v1.Coordinator", name, Raw, Raw);
        var invoker = (toOperator ? operators : clients).CreateCallInvoker();
        return ($"raw {name}", o => invoker.AsyncUnaryCall(method, null, o, bytes).ResponseAsync);
    }

    private async Task Poll(int h, string clientId, int wait, CallOptions options)
    {
        var reply = await _coordinator.PollTaskAsync(new PollTaskRequest { ClientId = clientId, WaitSeconds = wait }, options);
        if (reply.OutcomeCase == PollTaskReply.OutcomeOneofCase.Task)
            _held[h] = reply.Task; // a real task in hostile hands: later messages misuse it
    }

    private async Task Download(Random r, string clientId, CallOptions options)
    {
        var sha = r.Next(3) switch
        {
            0 => Convert.ToHexStringLower(SHA256.HashData(Bytes(r, 8))),
            1 => Text(r),
            _ => _held.Values.FirstOrDefault()?.GlobalUpdates.FirstOrDefault()?.Sha256 ?? "",
        };
        using var call = _coordinator.DownloadAdapter(new DownloadAdapterRequest { ClientId = clientId, Sha256 = sha }, options);
        var take = r.Next(1, 4); // read a little, then hang up
        while (take-- > 0 && await call.ResponseStream.MoveNext(options.CancellationToken))
        {
        }
    }

    /// <summary>An upload broken one of many ways; now and then a well-formed one for a held task, from the wrong client.</summary>
    private async Task Upload(Random r, int h, CallOptions options)
    {
        var held = _held.TryGetValue(h, out var t) ? t : null;
        var clientId = r.Next(8) == 0 ? Hostile((h + 1) % Hostiles) : Hostile(h); // sometimes another hostile's task
        byte[] payload = held is not null && r.Next(3) == 0 ? AdapterSerializer.ToBytes(Updates.For(held, seed: (ulong)r.Next())) : Bytes(r, r.Next(0, 4096));
        if (r.Next(3) == 0)
            payload = Mutated(r, payload);
        var header = held is not null ? Updates.Header(held, clientId, payload.Length) : new UpdateHeader { ClientId = clientId, JobId = JobId(r), TaskId = TaskId(r, h), Round = Int(r), Rank = Int(r) };
        if (r.Next(2) == 0)
        {
            header.Rank = r.Next(2) == 0 ? Int(r) : header.Rank;
            header.Alpha = r.Next(2) == 0 ? Double(r) : header.Alpha;
            header.NumSamples = r.Next(2) == 0 ? Long(r) : header.NumSamples;
            header.SizeBytes = r.Next(3) == 0 ? Long(r) : header.SizeBytes;
            header.Stats = new TrainingStats { Steps = Int(r), FirstLoss = Double(r), MeanLoss = Double(r), FinalLoss = Double(r), ComputeSeconds = Double(r), SecondsPerStep = Double(r), Tokens = Long(r), DownloadSeconds = Double(r) };
            header.Offset = r.Next(3) == 0 ? Long(r) : header.Offset;
        }
        // A resumable header names the payload's hash: right, garbage or another payload's; or none.
        header.Sha256 = r.Next(4) switch
        {
            0 => "",
            1 => Text(r),
            2 => Convert.ToHexStringLower(SHA256.HashData(Bytes(r, 8))),
            _ => Convert.ToHexStringLower(SHA256.HashData(payload)),
        };
        using var call = _coordinator.UploadUpdate(options);
        try
        {
            await WriteUpload(r, call.RequestStream, header, payload);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException or HttpRequestException or ObjectDisposedException && !options.CancellationToken.IsCancellationRequested)
        {
            // The server answered before the stream ended (it refused the header, say), or ended the connection
            // (the stream is then disposed): the call's status is the reply.
        }
        await call.ResponseAsync;
    }

    private async Task UploadOffset(Random r, int h, CallOptions options)
    {
        var held = _held.TryGetValue(h, out var t) ? t : null;
        var request = new UploadOffsetRequest
        {
            ClientId = r.Next(8) == 0 ? Hostile((h + 1) % Hostiles) : Hostile(h),
            JobId = held?.JobId ?? JobId(r),
            TaskId = held?.TaskId ?? TaskId(r, h),
            Round = held?.Round ?? Int(r),
            Sha256 = r.Next(2) == 0 ? Text(r) : Convert.ToHexStringLower(SHA256.HashData(Bytes(r, 8))),
            SizeBytes = Long(r),
        };
        await _coordinator.GetUploadOffsetAsync(request, options);
    }

    private async Task WriteUpload(Random r, IClientStreamWriter<UploadUpdateRequest> stream, UpdateHeader header, byte[] payload)
    {
        var shape = r.Next(8);
        if (shape != 0)
            await stream.WriteAsync(new UploadUpdateRequest { Header = header });
        if (shape == 1)
            await stream.WriteAsync(new UploadUpdateRequest { Header = header }); // two headers
        var chunk = shape == 2 ? maxChunkBytes + 1 : Math.Max(1, r.Next(1, 2048)); // oversize chunk
        var stop = shape == 3 ? r.Next(0, Math.Max(1, payload.Length)) : payload.Length; // cut mid-stream
        for (var offset = 0; offset < stop; offset += chunk)
        {
            var part = shape == 2 ? Bytes(r, chunk) : payload.AsSpan(offset, Math.Min(chunk, stop - offset)).ToArray();
            await stream.WriteAsync(new UploadUpdateRequest { Data = ByteString.CopyFrom(part) });
            if (shape == 2)
                break;
        }
        if (shape != 3)
        {
            var hash = shape == 4 ? Convert.ToHexStringLower(SHA256.HashData(Bytes(r, 4))) : Convert.ToHexStringLower(SHA256.HashData(payload));
            await stream.WriteAsync(new UploadUpdateRequest { Trailer = new UpdateTrailer { Sha256 = hash } });
            if (shape == 5)
                await stream.WriteAsync(new UploadUpdateRequest { Data = ByteString.CopyFrom(Bytes(r, 16)) }); // data after the trailer
        }
        await stream.CompleteAsync();
    }

    private Task Abandon(Random r, int h, CallOptions options)
    {
        var held = _held.TryGetValue(h, out var t) && r.Next(2) == 0 ? t : null;
        var request = held is null
            ? new AbandonTaskRequest { ClientId = Id(r, h), JobId = JobId(r), Round = Int(r), TaskId = TaskId(r, h), Reason = Text(r) }
            : new AbandonTaskRequest { ClientId = Hostile(r.Next(Hostiles)), JobId = held.JobId, Round = r.Next(2) == 0 ? held.Round : Int(r), TaskId = held.TaskId, Reason = Text(r) };
        return _coordinator.AbandonTaskAsync(request, options).ResponseAsync;
    }

    /// <summary>Operator calls with the operator token: reads at their extremes, and job specs that can never be valid (rounds 0).</summary>
    private Task Operate(Random r, CallOptions options) => r.Next(4) switch
    {
        0 => _operator.GetJobAsync(new GetJobRequest { JobId = JobId(r) }, options).ResponseAsync,
        1 => _operator.ListJobsAsync(new ListJobsRequest(), options).ResponseAsync,
        2 => _operator.CreateJobAsync(new CreateJobRequest { Spec = new JobSpec { JobId = Text(r), BaseModel = Text(r), Rounds = 0, LocalSteps = Int(r), ClientsPerRound = Int(r), MinClientsPerRound = Int(r), EvaluationDataset = Text(r), AggregationStrategy = Text(r), Ranks = { Int(r), Int(r) } } }, options).ResponseAsync,
        _ => DownloadGlobal(r, options),
    };

    private async Task DownloadGlobal(Random r, CallOptions options)
    {
        using var call = _operator.DownloadGlobalAdapter(new DownloadGlobalAdapterRequest { JobId = JobId(r), ThroughRound = Int(r) }, options);
        if (await call.ResponseStream.MoveNext(options.CancellationToken))
            await call.ResponseStream.MoveNext(options.CancellationToken);
    }

    private async Task Watch(Random r, CallOptions options)
    {
        using var call = _operator.WatchJob(new WatchJobRequest { JobId = JobId(r) }, options);
        await call.ResponseStream.MoveNext(options.CancellationToken); // the first status, then hang up
    }

    private static string Hostile(int h) => $"hostile-{h}";

    private static string Id(Random r, int h) => r.Next(6) switch
    {
        0 => Text(r),
        1 => "",
        2 => $"never-enrolled-{r.Next()}",
        _ => Hostile(h),
    };

    private string JobId(Random r) => r.Next(3) switch
    {
        0 => Text(r),
        1 => $"no-such-job-{r.Next(100)}",
        _ => realJobId,
    };

    private string TaskId(Random r, int h) => r.Next(3) switch
    {
        0 => Text(r),
        1 when _held.TryGetValue((h + 1) % Hostiles, out var other) => other.TaskId, // another client's task
        _ => $"{realJobId}.t{r.Next(100)}.{Hostile(h)}",
    };

    private static DeviceProfile Device(Random r) => new()
    {
        Kind = (DeviceKind)Int(r),
        CpuCores = Int(r),
        MemoryBytes = Long(r),
        AcceleratorName = Text(r),
        AcceleratorMemoryBytes = Long(r),
        MeasuredGflops = Double(r),
    };

    private static Dictionary<string, string> Labels(Random r)
    {
        var labels = new Dictionary<string, string>();
        if (r.Next(3) == 0)
        {
            for (var i = 0; i < 2000; i++)
                labels[$"label-{i}"] = new string('v', 100); // many, each short
            return labels;
        }
        for (int i = 0, n = r.Next(0, 4); i < n; i++)
            labels[Text(r) + i] = Text(r);
        return labels;
    }

    private static Dictionary<string, double> Metrics(Random r)
    {
        var metrics = new Dictionary<string, double>();
        if (r.Next(3) == 0)
        {
            for (var i = 0; i < (r.Next(2) == 0 ? 20_000 : 1_000); i++)
                metrics[$"{new string('m', 100)}{i}"] = Double(r); // 20,000 of them is past the message size limit
            return metrics;
        }
        for (int i = 0, n = r.Next(0, 4); i < n; i++)
            metrics[$"{Text(r)}{i}"] = Double(r);
        return metrics;
    }

    private static int Int(Random r) => r.Next(6) switch
    {
        0 => int.MinValue,
        1 => int.MaxValue,
        2 => -1,
        3 => 0,
        _ => r.Next(-10, 100),
    };

    private static long Long(Random r) => r.Next(6) switch
    {
        0 => long.MinValue,
        1 => long.MaxValue,
        2 => -1,
        3 => 0,
        _ => r.NextInt64(-10, 1 << 20),
    };

    private static double Double(Random r) => r.Next(9) switch
    {
        0 => double.NaN,
        1 => double.PositiveInfinity,
        2 => double.NegativeInfinity,
        3 => double.MaxValue,
        4 => -double.Epsilon,
        5 => -1,
        6 => 0,
        _ => r.NextDouble() * 10,
    };

    /// <summary>Text at its extremes: empty, huge, control characters and log-forging newlines, invalid id characters, unpaired surrogates.</summary>
    private static string Text(Random r) => r.Next(7) switch
    {
        0 => "",
        1 => new string('x', r.Next(1, 3) * 100_000),
        2 => "\n[00:00:00 ERR] forged line\r\n",
        3 => "../../etc/passwd",
        4 => "\ud800 unpaired",
        5 => new string(Enumerable.Range(0, r.Next(1, 80)).Select(_ => (char)r.Next(0, 0x3000)).ToArray()),
        _ => $"id-{r.Next()}",
    };

    private static byte[] Bytes(Random r, int count)
    {
        var bytes = new byte[count];
        r.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutated(Random r, byte[] valid)
    {
        var bytes = (byte[])valid.Clone();
        switch (r.Next(3))
        {
            case 0:
                for (var i = 0; i < 1 + r.Next(8) && bytes.Length > 0; i++)
                    bytes[r.Next(bytes.Length)] ^= (byte)(1 << r.Next(8));
                return bytes;
            case 1:
                return bytes[..r.Next(0, bytes.Length + 1)];
            default:
                return [.. bytes, .. Bytes(r, r.Next(1, 64))];
        }
    }
}
