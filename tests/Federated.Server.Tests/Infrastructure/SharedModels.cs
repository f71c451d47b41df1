namespace Federated.Server.Tests.Infrastructure;

/// <summary>Real checkpoints kept beside the repository, in ../shared/models.</summary>
public static class SharedModels
{
    /// <summary>llama2.c's stories260K.bin, which has no tokenizer of its own.</summary>
    public static string Stories260K
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Federated.sln")))
                directory = directory.Parent;
            if (directory is null)
                throw new InvalidOperationException($"no folder holding Federated.sln above the test assembly's folder {AppContext.BaseDirectory}");
            var path = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "models", "stories260K.bin"));
            if (!File.Exists(path))
                throw new FileNotFoundException($"the llama2.c checkpoint this test needs is missing: {path}", path);
            return path;
        }
    }
}
