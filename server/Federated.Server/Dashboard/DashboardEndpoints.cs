using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Federated.Contracts;
using Federated.Contracts.Clients;
using Federated.Contracts.Compaction;
using Federated.Contracts.Errors;
using Federated.Contracts.Jobs;
using Federated.Core.Adapters;
using Federated.Core.Adapters.Peft;
using Federated.Protos.V1;
using Federated.Server.Cluster;
using Federated.Server.Hosting;
using Federated.Server.Jobs;
using Federated.Server.Storage;
using Federated.Server.Transport;
using Google.Protobuf;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Federated.Server.Dashboard;

/// <summary>
/// The dashboard's HTTP side: embedded static pages under /dashboard/ (<see cref="DashboardStaticFiles"/>), JSON
/// and server-sent events under /dashboard/api/, cookie sign-in, antiforgery on every state-changing request,
/// and Orleans' own dashboard.
/// </summary>
public static partial class DashboardEndpoints
{
    public const string Prefix = "/dashboard";
    private const string AntiforgeryHeader = "X-CSRF-TOKEN";

    /// <summary>Reads and checks the options; registers services when the dashboard is enabled. Returns the options.</summary>
    public static DashboardOptions AddDashboard(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DashboardOptions.Section).Get<DashboardOptions>() ?? new DashboardOptions();
        Core.Configuration.AnnotatedOptionsValidator<DashboardOptions>.ThrowIfInvalid(options, DashboardOptions.Section);
        if (!options.Enabled)
            return options;
        string? generated = null;
        if (!options.HasCredential)
        {
            if (!options.GeneratePassword)
                throw new OptionsValidationException(DashboardOptions.Section, typeof(DashboardOptions),
                    [$"{DashboardOptions.Section}: the dashboard is enabled but has no credential: set {DashboardOptions.Section}:Password (user '{OperatorCredentials.DefaultUser}') or {DashboardOptions.Section}:Users:<name>=<password>, or {DashboardOptions.Section}:GeneratePassword=true for a password made up at start-up (development)"]);
            generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('/', '_').Replace('+', '-');
        }
        builder.Services.AddSingleton(new OperatorCredentials(options, generated));
        builder.Services.AddSingleton(new GeneratedPassword(generated));
        // Cookies stay valid across a restart only if their keys do: kept with the server's data, not in $HOME;
        // in Postgres mode in the shared database, so that every silo accepts every silo's cookies and tokens.
        var server = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var protection = builder.Services.AddDataProtection().SetApplicationName("federated");
        if (server.Cluster.Mode == ClusterMode.Postgres)
        {
            var keys = new PostgresXmlRepository(server.Cluster.ConnectionString!, server.Cluster.ServiceId);
            builder.Services.AddSingleton(keys);
            builder.Services.Configure<KeyManagementOptions>(o => o.XmlRepository = keys);
            builder.Services.AddHostedService<FirstDashboardKey>();
        }
        else
            protection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(server.DataPath, "keys")));
        builder.Services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section);
        builder.Services.AddSingleton<DashboardFeed>();
        builder.Services.AddHostedService(s => s.GetRequiredService<DashboardFeed>());

        var secure = options.RequireSecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = "federated.operator";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = secure;
            cookie.Cookie.Path = "/";
            cookie.ExpireTimeSpan = TimeSpan.FromMinutes(options.SessionMinutes);
            cookie.SlidingExpiration = true;
            cookie.LoginPath = $"{Prefix}/login.html";
            // API calls get 401/403 to act on; pages (Orleans' dashboard) are sent to the sign-in page.
            cookie.Events.OnRedirectToLogin = context => Redirect(context, StatusCodes.Status401Unauthorized);
            cookie.Events.OnRedirectToAccessDenied = context => Redirect(context, StatusCodes.Status403Forbidden);
            cookie.Events.OnValidatePrincipal = DashboardSignIn.ValidatePrincipal;
        });
        builder.Services.AddAuthorization();
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = AntiforgeryHeader;
            antiforgery.Cookie.Name = "federated.antiforgery";
            antiforgery.Cookie.HttpOnly = true;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = secure;
        });
        return options;
    }

    /// <summary>Maps the dashboard when enabled; call after <see cref="AddDashboard"/>.</summary>
    public static void MapDashboard(WebApplication app, DashboardOptions options)
    {
        if (!options.Enabled)
            return;
        if (app.Services.GetRequiredService<GeneratedPassword>().Value is { } generated)
            LogGeneratedPassword(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Federated.Server.Dashboard"), OperatorCredentials.DefaultUser, generated);

        DashboardStaticFiles.Use(app);
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOrleansDashboard(routePrefix: options.OrleansPath).RequireAuthorization();

        var api = app.MapGroup($"{Prefix}/api");
        api.MapGet("/session", Session);
        api.MapPost("/login", DashboardSignIn.Login).AddEndpointFilter(ValidateAntiforgery);
        api.MapPost("/logout", (Delegate)DashboardSignIn.Logout).AddEndpointFilter(ValidateAntiforgery).RequireAuthorization();

        var read = api.MapGroup("").RequireAuthorization();
        read.MapGet("/overview", (DashboardFeed feed, CancellationToken ct) => Stream(feed.Overview, o => o, ct));
        read.MapGet("/jobs/{id}", JobEvents);
        read.MapGet("/clients", ClientEvents);
        read.MapGet("/jobs/{id}/adapter", DownloadAdapter);

        var write = api.MapGroup("").RequireAuthorization().AddEndpointFilter(ValidateAntiforgery);
        write.MapPost("/jobs", (Delegate)CreateJob);
        write.MapPost("/jobs/{id}/{action}", JobAction);
        write.MapPost("/clients/{id}/{action}", ClientAction);
    }

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments($"{Prefix}/api"))
            context.Response.StatusCode = status;
        else
            context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    private static async ValueTask<object?> ValidateAntiforgery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var antiforgery = context.HttpContext.RequestServices.GetRequiredService<IAntiforgery>();
        try
        {
            await antiforgery.ValidateRequestAsync(context.HttpContext);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.BadRequest(new ErrorView($"the request has no valid antiforgery token (header {AntiforgeryHeader}); reload the page", null));
        }
        return await next(context);
    }

    private static IResult Session(HttpContext context, IAntiforgery antiforgery, IOptions<DashboardOptions> options, Hosting.Tls.TransportSecurity security)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        var user = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        return Results.Ok(new SessionView(user, tokens.RequestToken!, options.Value.OrleansPath.TrimEnd('/'), security.InsecureBeyondLoopback));
    }

    private static async Task<IResult> JobEvents(string id, DashboardFeed feed, CancellationToken ct)
    {
        try
        {
            var job = await feed.JobAsync(Identifiers.Require(id, "job id"));
            return Stream(job, j => j, ct);
        }
        catch (FederatedException e)
        {
            return Error(e);
        }
    }

    private static IResult ClientEvents(DashboardFeed feed, int? page, int? size, string? q, CancellationToken ct)
    {
        var pageSize = Math.Clamp(size ?? 50, 1, 500);
        var index = Math.Max(page ?? 0, 0);
        return Stream(feed.Clients, table => DashboardViews.Page(table, q, index, pageSize), ct);
    }

    /// <summary>A server-sent event per new value; the first at once.</summary>
    private static IResult Stream<T, TView>(Latest<T> latest, Func<T, TView> view, CancellationToken ct) where T : class
        => TypedResults.ServerSentEvents(Values(latest, view, ct));

    private static async IAsyncEnumerable<TView> Values<T, TView>(Latest<T> latest, Func<T, TView> view, [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        long version = 0;
        while (!ct.IsCancellationRequested)
        {
            (T value, long next) item;
            try
            {
                item = await latest.NextAsync(version, ct);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            version = item.next;
            yield return view(item.value);
        }
    }

    private static async Task<IResult> CreateJob(HttpContext context, JobCreation creation)
    {
        JobSpec spec;
        try
        {
            using var reader = new StreamReader(context.Request.Body);
            spec = JsonParser.Default.Parse<JobSpec>(await reader.ReadToEndAsync(context.RequestAborted));
        }
        catch (InvalidProtocolBufferException e)
        {
            return Results.BadRequest(new ErrorView($"the job is not valid JSON for a JobSpec: {e.Message}", null));
        }
        try
        {
            var job = await creation.CreateAsync(spec);
            return Results.Ok(new { id = job.JobId });
        }
        catch (FederatedException e)
        {
            return Error(e);
        }
    }

    private static async Task<IResult> JobAction(string id, string action, IGrainFactory grains)
    {
        try
        {
            var job = grains.GetGrain<IJobGrain>(Identifiers.Require(id, "job id"));
            var snapshot = action switch
            {
                "pause" => await job.Pause(),
                "resume" => await job.Resume(),
                "stop" => await job.Stop(),
                _ => throw FederatedException.NotFound($"no job action '{action}' (pause, resume or stop)"),
            };
            return Results.Ok(new { id = snapshot.JobId, status = snapshot.Status.ToString().ToLowerInvariant() });
        }
        catch (FederatedException e)
        {
            return Error(e);
        }
    }

    private static async Task<IResult> ClientAction(string id, string action, IGrainFactory grains)
    {
        try
        {
            var admission = action switch
            {
                "pause" => ClientAdmission.Paused,
                "resume" => ClientAdmission.Active,
                "drain" => ClientAdmission.Draining,
                "remove" => ClientAdmission.Removed,
                _ => throw FederatedException.NotFound($"no client action '{action}' (pause, resume, drain or remove)"),
            };
            var client = await grains.GetGrain<IClientGrain>(Identifiers.Require(id, "client id")).SetAdmission(admission);
            return Results.Ok(new { id = client.ClientId, admission = client.Admission.ToString().ToLowerInvariant() });
        }
        catch (FederatedException e)
        {
            return Error(e);
        }
    }

    /// <summary>The job's global adapter after a round as a zip of a PEFT directory.</summary>
    private static async Task<IResult> DownloadAdapter(string id, int? round, IGrainFactory grains, AdapterStore store, CancellationToken ct)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"federated-peft-{Guid.NewGuid():N}");
        try
        {
            var jobId = Identifiers.Require(id, "job id");
            var job = await grains.GetGrain<IJobGrain>(jobId).GetSnapshot();
            var through = round ?? job.CompletedRounds;
            if (through < 1 || through > job.CompletedRounds)
                throw FederatedException.Invalid($"round: job '{jobId}' has rounds 1 to {job.CompletedRounds}, not {through}");
            var global = await grains.GetGrain<ICompactionGrain>(jobId).GetGlobal(through);
            var adapter = await store.ReadAdapterAsync(global.Sha256, ct);
            await PeftAdapterDirectory.WriteAsync(folder, adapter, job.Config.BaseModel, ct);
            var zip = new MemoryStream();
            await using (var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var file in Directory.GetFiles(folder))
                    await archive.CreateEntryFromFileAsync(file, Path.GetFileName(file), CompressionLevel.Fastest, ct);
            }
            zip.Position = 0;
            return Results.File(zip, "application/zip", $"{jobId}-round-{through}-adapter.zip");
        }
        catch (FederatedException e)
        {
            return Error(e);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static IResult Error(FederatedException e)
    {
        // Validator messages start with the field's name: "rounds: must be between 1 and …", "scheduler.rank_tiers[1].rank: …".
        var colon = e.Message.IndexOf(':', StringComparison.Ordinal);
        var field = colon > 0 && e.Message[..colon].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or '[' or ']') ? e.Message[..colon] : null;
        return Results.Json(new ErrorView(e.Message, field), statusCode: ErrorStatus.Http(e.Error));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sign-in: user '{User}', password '{Password}' (made up at start-up because Server:Dashboard:GeneratePassword is set; configure Server:Dashboard:Password instead)")]
    private static partial void LogGeneratedPassword(ILogger logger, string user, string password);

    private sealed record GeneratedPassword(string? Value);
}

public sealed record LoginRequest(string? User, string? Password);

/// <param name="Insecure">Plain HTTP on an address other machines reach (Server:AllowInsecure): the pages show a warning.</param>
public sealed record SessionView(string? User, string AntiforgeryToken, string OrleansPath, bool Insecure);

/// <summary>An error for the pages: the message, and the JobSpec field it is about when there is one.</summary>
public sealed record ErrorView(string Error, string? Field);
