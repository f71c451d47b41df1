namespace Federated.Testing;

/// <summary>Real checkpoints kept beside the repository, in ../shared/models (see its README.md).</summary>
public static class TestModels
{
    /// <summary>llama2.c's stories260K.bin: dim 64, 5 layers, 8 heads, 4 KV heads, vocabulary 512.</summary>
    public static string Stories260K
    {
        get
        {
            var root = RepositoryRoot;
            var path = Path.GetFullPath(Path.Combine(root, "..", "shared", "models", "stories260K.bin"));
            if (!File.Exists(path))
                throw new FileNotFoundException($"the llama2.c checkpoint the checkpoint tests need is missing: {path} (../shared/models/stories260K.bin beside the repository root {root})", path);
            return path;
        }
    }

    /// <summary>The folder holding Federated.sln, above the test assembly's folder.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Federated.sln")))
                directory = directory.Parent;
            return directory?.FullName
                ?? throw new InvalidOperationException($"no folder holding Federated.sln above the test assembly's folder {AppContext.BaseDirectory}");
        }
    }
}
