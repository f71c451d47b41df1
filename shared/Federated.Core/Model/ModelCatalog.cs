using Federated.Core.Checkpoints;
using Federated.Core.Tokenizers;
using static TorchSharp.torch;

namespace Federated.Core.Model;

/// <summary>
/// Resolves base model references: a built-in model (builtin:tiny, builtin:small), a Hugging Face model
/// directory, or a llama2.c .bin file. Errors are <see cref="ArgumentException"/>s naming the reference.
/// </summary>
public static class ModelCatalog
{
    /// <summary>The architecture behind a reference; throws <see cref="ArgumentException"/> naming the reference if unknown.</summary>
    public static LlamaConfig Describe(string reference) => Inspect(reference).Config;

    /// <summary>Format, architecture, shape and storage of a reference, without loading its weights.</summary>
    public static CheckpointInfo Inspect(string reference) => Resolve(reference,
        () => new CheckpointInfo(reference, CheckpointFormat.Builtin, HuggingFaceConfig.LlamaArchitecture, BuiltinModels.Config(reference), "F32"),
        HuggingFaceCheckpoint.Describe,
        Llama2cCheckpoint.Describe);

    public static LlamaForCausalLM Load(string reference, Device device) => Resolve(reference,
        () => BuiltinModels.Create(reference, device),
        directory => HuggingFaceCheckpoint.Load(directory, device),
        file => Llama2cCheckpoint.Load(file, device));

    /// <summary>
    /// The tokenizer and chat format that turn text into this model's tokens: the byte tokenizer for built-in
    /// models; tokenizer.json and tokenizer_config.json (chat template) of a Hugging Face directory. A llama2.c
    /// file has no tokenizer and is refused. Errors are <see cref="ArgumentException"/>s naming the reference.
    /// </summary>
    public static ModelTextFormat TextFormat(string reference)
    {
        var format = Resolve(reference, () => ModelTextFormat.Builtin, HuggingFaceTextFormat, file => throw new CheckpointFormatException(
            $"{file} is a llama2.c checkpoint, which carries no tokenizer, so text cannot be tokenized for it; give the model a tokenizer.json: "
            + "convert it to a Hugging Face directory (federated model convert) and put the tokenizer.json (and tokenizer_config.json) it was trained with beside config.json"));
        var vocabulary = Describe(reference).VocabSize;
        if (format.Tokenizer.VocabSize > vocabulary)
            throw new ArgumentException($"base model '{reference}': its tokenizer has {format.Tokenizer.VocabSize} ids, but the model's embedding has only {vocabulary} rows (config.json vocab_size)");
        return format;
    }

    private static ModelTextFormat HuggingFaceTextFormat(string directory)
    {
        if (!File.Exists(Path.Combine(directory, HuggingFaceTokenizer.TokenizerFile)))
            throw new CheckpointFormatException($"{directory} has no {HuggingFaceTokenizer.TokenizerFile}, so text cannot be tokenized for this model; copy the model's {HuggingFaceTokenizer.TokenizerFile} and {HuggingFaceTokenizer.ConfigFile} into it");
        try
        {
            var tokenizer = HuggingFaceTokenizer.Load(directory);
            return new ModelTextFormat(tokenizer, tokenizer.ChatFormat, tokenizer.Description) { Template = tokenizer.Template };
        }
        catch (TokenizerFormatException e)
        {
            throw new CheckpointFormatException(e.Message, e);
        }
    }

    private static T Resolve<T>(string reference, Func<T> builtin, Func<string, T> huggingFace, Func<string, T> llama2c)
    {
        if (BuiltinModels.IsBuiltin(reference))
            return builtin();
        try
        {
            if (Directory.Exists(reference))
                return huggingFace(reference);
            if (File.Exists(reference))
            {
                if (!reference.EndsWith(Llama2cCheckpoint.Extension, StringComparison.OrdinalIgnoreCase))
                    throw new CheckpointFormatException($"{reference}: a model file must be a llama2.c checkpoint ({Llama2cCheckpoint.Extension}); a Hugging Face model is given as its directory");
                return llama2c(reference);
            }
        }
        catch (CheckpointFormatException e)
        {
            throw new ArgumentException($"base model '{reference}': {e.Message}", e);
        }
        throw new ArgumentException($"base model '{reference}' is not known: it is not a built-in model ({string.Join(", ", BuiltinModels.Names)}), a Hugging Face model directory or a llama2.c {Llama2cCheckpoint.Extension} file");
    }
}
