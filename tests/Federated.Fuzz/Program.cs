using Federated.Fuzz;
using SharpFuzz;

// Federated.Fuzz <target>                        run under afl-fuzz (SharpFuzz's out-of-process fork server)
// Federated.Fuzz <target> --replay <file|folder> run inputs uninstrumented; exit 1 naming the first that fails
// Federated.Fuzz <target> --write-seeds <folder> write the target's seed corpus
// Federated.Fuzz --list                          the target names
if (args.Length == 1 && args[0] == "--list")
{
    foreach (var t in FuzzTargets.All)
        Console.WriteLine(t.Name);
    return 0;
}
if (args.Length is not (1 or 3) || FuzzTargets.Find(args[0]) is not { } target)
{
    Console.Error.WriteLine($"usage: Federated.Fuzz <target> [--replay <file|folder> | --write-seeds <folder>]; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return 2;
}
if (args.Length == 1)
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}
switch (args[1])
{
    case "--replay":
        return Replay.Run(target, args[2], verbose: true);
    case "--write-seeds":
        Directory.CreateDirectory(args[2]);
        foreach (var (name, bytes) in target.Seeds())
            File.WriteAllBytes(Path.Combine(args[2], name), bytes);
        return 0;
    default:
        Console.Error.WriteLine($"unknown option '{args[1]}'");
        return 2;
}
