using System.Text;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenizers;

/// <summary>
/// A tokenizer read from a Hugging Face tokenizer.json (BPE models only, see <see cref="TokenizerKind"/>; the
/// file is read by <see cref="TokenizerJsonReader"/>), with the named special tokens and the chat template from
/// tokenizer_config.json beside it when that file exists. Added tokens are split out of the raw text before
/// the normalizers and the BPE model run, as Hugging Face does.
/// </summary>
public sealed class HuggingFaceTokenizer : ITextTokenizer
{
    public const string TokenizerFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";

    // Where tokenizer_config.json is missing, the first of these found among the added tokens ends a sequence.
    private static readonly string[] KnownEosTokens = ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>"];

    // Hugging Face's clean_up_tokenization: spaces before punctuation and English contractions are removed.
    private static readonly (string From, string To)[] CleanUps =
        [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")];

    private readonly TokenizerDefinition _definition;
    private readonly HashSet<int> _modelIds;
    private readonly Dictionary<int, string> _addedById;
    private readonly Regex? _addedPattern;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;
    private readonly bool _cleanUpSpaces;

    private HuggingFaceTokenizer(TokenizerDefinition definition, TokenizerConfig? config, string tokenizerFile)
    {
        _definition = definition;
        _modelIds = [.. definition.Vocabulary.Values];
        _addedById = definition.Added.ToDictionary(p => p.Value, p => p.Key);
        // Longest first, so "<|im_start|>" wins over any shorter added token it contains.
        _addedPattern = definition.Added.Count == 0 ? null : new Regex(string.Join("|", definition.Added.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)), RegexOptions.CultureInvariant);
        int PostProcessorId(string token) => TokenId(token) ?? throw new TokenizerFormatException($"{tokenizerFile}: field \"post_processor\" adds \"{token}\", which is not a token");
        _prefixIds = [.. definition.PrefixTokens.Select(PostProcessorId)];
        _suffixIds = [.. definition.SuffixTokens.Select(PostProcessorId)];
        BosId = _prefixIds.Length > 0 ? _prefixIds[0] : null;
        if (config is null)
        {
            EosToken = KnownEosTokens.FirstOrDefault(definition.Added.ContainsKey)
                ?? throw new TokenizerFormatException($"{tokenizerFile}: no {ConfigFile} beside it names the eos_token, and none of {string.Join(", ", KnownEosTokens)} is an added token");
            BosToken = definition.PrefixTokens.FirstOrDefault();
            EosId = definition.Added[EosToken];
            PadId = EosId;
            return;
        }
        var configFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerFile))!, ConfigFile);
        int Named(string field, string token) => TokenId(token) ?? throw new TokenizerFormatException($"{configFile}: field \"{field}\" names \"{token}\", which is not a token of {TokenizerFile}");
        BosToken = config.Bos;
        EosToken = config.Eos!;
        EosId = Named("eos_token", EosToken);
        PadId = config.Pad is null ? EosId : Named("pad_token", config.Pad);
        ChatTemplate = config.ChatTemplate;
        Template = config.ChatTemplate is null ? null : ModelChatTemplate.Parse(config.ChatTemplate, config.Bos, config.Eos, config.Pad, configFile);
        _cleanUpSpaces = config.CleanUpSpaces;
    }

    public TokenizerKind Kind => _definition.Kind;

    public int VocabSize => _definition.VocabSize;

    /// <summary>The first token the post-processor puts before a sequence (Llama 2, Llama 3.1, Gemma), or null (Llama 3, Qwen, DeepSeek V3).</summary>
    public int? BosId { get; }

    public int EosId { get; }

    public int PadId { get; }

    /// <summary>The bos_token of tokenizer_config.json (a chat template's bos_token), added or not.</summary>
    public string? BosToken { get; }

    public string EosToken { get; }

    /// <summary>The Jinja chat template from tokenizer_config.json, or null.</summary>
    public string? ChatTemplate { get; }

    /// <summary>The chat template, parsed, or null where tokenizer_config.json has none.</summary>
    public ModelChatTemplate? Template { get; }

    /// <summary>How examples are laid out for this model: its own chat template, else the plain fallback.</summary>
    public ChatFormat ChatFormat => Template is null ? ChatFormat.Plain : ChatFormat.Template;

    /// <summary>What was loaded and which chat format will be used, for logs.</summary>
    public string Description
        => $"{Kind} tokenizer with {VocabSize} ids, " + (Template is null ? "no chat_template: plain \"### Instruction:\" fallback" : "the model's chat_template");

    /// <summary>Loads a folder holding tokenizer.json (and optionally tokenizer_config.json), or a tokenizer.json file.</summary>
    public static HuggingFaceTokenizer Load(string path)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tokenizerFile = Directory.Exists(path) ? Path.Combine(path, TokenizerFile) : path;
        var definition = TokenizerJsonReader.Read(tokenizerFile);
        var configFile = Path.Combine(folder, ConfigFile);
        return new HuggingFaceTokenizer(definition, File.Exists(configFile) ? TokenizerConfig.Read(configFile) : null, tokenizerFile);
    }

    /// <summary>Encodes text as add_special_tokens=False: added-token strings in the text become their ids, nothing is put around it.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        int at = 0;
        if (_addedPattern is not null)
        {
            for (var match = _addedPattern.Match(text); match.Success; match = match.NextMatch())
            {
                if (match.Index > at)
                    ids.AddRange(EncodeSegment(text[at..match.Index], first: at == 0));
                ids.Add(_definition.Added[match.Value]);
                at = match.Index + match.Length;
            }
        }
        if (at < text.Length)
            ids.AddRange(EncodeSegment(text[at..], first: at == 0));
        return [.. ids];
    }

    /// <summary>Encodes text as add_special_tokens=True: with the tokens the post-processor puts before and after it.</summary>
    public int[] EncodeWithSpecialTokens(string text) => [.. _prefixIds, .. Encode(text), .. _suffixIds];

    private int[] EncodeSegment(string segment, bool first)
        => _definition.Model.Encode(_definition.Normalize is { } normalize ? normalize(segment) : segment, first);

    /// <summary>Decodes ids to text as skip_special_tokens=True; ids outside the vocabulary are dropped.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var run = new List<int>();
        bool atStart = true;
        void Flush()
        {
            if (run.Count == 0)
                return;
            text.Append(_definition.Model.Decode(run, atStart));
            atStart = false;
            run.Clear();
        }
        foreach (var id in ids)
        {
            if (_addedById.TryGetValue(id, out var content))
            {
                Flush();
                if (!_definition.Special.Contains(id))
                {
                    text.Append(_definition.Model.DecodeAdded(content));
                    atStart = false;
                }
                continue;
            }
            if (_modelIds.Contains(id))
                run.Add(id);
        }
        Flush();
        if (_cleanUpSpaces)
        {
            foreach (var (from, to) in CleanUps)
                text.Replace(from, to);
        }
        return text.ToString();
    }

    /// <summary>The added token (special or not) that starts at <paramref name="index"/> of <paramref name="text"/>, longest first, or null.</summary>
    public string? AddedTokenAt(string text, int index)
    {
        if (_addedPattern is null || index >= text.Length)
            return null;
        var match = _addedPattern.Match(text, index);
        return match.Success && match.Index == index ? match.Value : null;
    }

    /// <summary>The id of a token string (an added token or a vocabulary entry), or null.</summary>
    public int? TokenId(string token) => _definition.Added.TryGetValue(token, out var id) || _definition.Vocabulary.TryGetValue(token, out id) ? id : null;
}
