using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Federated.Core.Tokenizers;

/// <summary>
/// A tokenizer read from a Hugging Face tokenizer.json (BPE models only, see <see cref="TokenizerKind"/>), with
/// BOS/EOS/PAD tokens and the chat template from tokenizer_config.json beside it when that file exists.
/// Added tokens are split out of the text before the BPE model runs, as Hugging Face does.
/// </summary>
public sealed class HuggingFaceTokenizer : ITextTokenizer
{
    public const string TokenizerFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";

    // Where tokenizer_config.json is missing, the first of these found among the added tokens ends a sequence.
    private static readonly string[] KnownEosTokens = ["</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>"];

    private readonly ISegmentModel _model;
    private readonly Dictionary<string, int> _vocabulary;
    private readonly HashSet<int> _modelIds;
    private readonly Dictionary<string, int> _added;
    private readonly Dictionary<int, string> _addedById;
    private readonly HashSet<int> _special;
    private readonly Regex? _addedPattern;

    private HuggingFaceTokenizer(TokenizerKind kind, ISegmentModel model, Dictionary<string, int> vocabulary, Dictionary<string, int> added, HashSet<int> special, int vocabSize)
    {
        Kind = kind;
        _model = model;
        _vocabulary = vocabulary;
        _modelIds = [.. vocabulary.Values];
        _added = added;
        _addedById = added.ToDictionary(p => p.Value, p => p.Key);
        _special = special;
        VocabSize = vocabSize;
        // Longest first, so "<|im_start|>" wins over any shorter added token it contains.
        _addedPattern = added.Count == 0 ? null : new Regex(string.Join("|", added.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    public TokenizerKind Kind { get; }

    public int VocabSize { get; }

    public int? BosId { get; private set; }

    public int EosId { get; private set; }

    public int PadId { get; private set; }

    public string? BosToken { get; private set; }

    public string EosToken { get; private set; } = "";

    /// <summary>The Jinja chat template from tokenizer_config.json, or null.</summary>
    public string? ChatTemplate { get; private set; }

    /// <summary>How examples are laid out for this model: the template recognised in <see cref="ChatTemplate"/>, else plain.</summary>
    public ChatFormat ChatFormat => ChatFormats.Detect(ChatTemplate);

    /// <summary>What was loaded and which chat format will be used, and why, for logs.</summary>
    public string Description
        => $"{Kind} tokenizer with {VocabSize} ids, chat format {ChatFormat} "
            + (ChatTemplate is null ? "(no chat_template: plain fallback)" : ChatFormat == ChatFormat.Plain ? "(chat_template not recognised: plain fallback)" : "(recognised in chat_template)");

    /// <summary>Loads a folder holding tokenizer.json (and optionally tokenizer_config.json), or a tokenizer.json file.</summary>
    public static HuggingFaceTokenizer Load(string path)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var tokenizerFile = Directory.Exists(path) ? Path.Combine(path, TokenizerFile) : path;
        var tokenizer = Parse(tokenizerFile, out var postProcessorBos);
        var configFile = Path.Combine(folder, ConfigFile);
        tokenizer.ReadConfig(File.Exists(configFile) ? configFile : null, tokenizerFile, postProcessorBos);
        return tokenizer;
    }

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        int at = 0;
        if (_addedPattern is not null)
        {
            for (var match = _addedPattern.Match(text); match.Success; match = match.NextMatch())
            {
                if (match.Index > at)
                    ids.AddRange(_model.Encode(text[at..match.Index], first: at == 0));
                ids.Add(_added[match.Value]);
                at = match.Index + match.Length;
            }
        }
        if (at < text.Length)
            ids.AddRange(_model.Encode(text[at..], first: at == 0));
        return [.. ids];
    }

    /// <summary>Decodes ids to text; special tokens and ids outside the vocabulary are dropped.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var run = new List<int>();
        bool atStart = true;
        void Flush()
        {
            if (run.Count == 0)
                return;
            text.Append(_model.Decode(run, atStart));
            atStart = false;
            run.Clear();
        }
        foreach (var id in ids)
        {
            if (_addedById.TryGetValue(id, out var content))
            {
                Flush();
                if (!_special.Contains(id))
                {
                    text.Append(content);
                    atStart = false;
                }
                continue;
            }
            if (_modelIds.Contains(id))
                run.Add(id);
        }
        Flush();
        return text.ToString();
    }

    /// <summary>The id of a token string (an added token or a vocabulary entry), or null.</summary>
    public int? TokenId(string token) => _added.TryGetValue(token, out var id) || _vocabulary.TryGetValue(token, out id) ? id : null;

    private static HuggingFaceTokenizer Parse(string file, out string? postProcessorBos)
    {
        using var document = JsonFields.Parse(file);
        var json = new JsonFields(file);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException($"{file}: expected a JSON object");
        var model = json.Object(root, "", "model");
        var type = json.String(model, "model", "type");
        if (type != "BPE")
            throw json.Error("model.type", $"is \"{type}\"; only \"BPE\" tokenizers can be loaded");
        var vocabulary = ReadVocabulary(json, model);
        var merges = ReadMerges(json, model);
        for (int i = 0; i < merges.Count; i++)
        {
            var (left, right) = merges[i];
            foreach (var part in (string[])[left, right, left + right])
            {
                if (!vocabulary.ContainsKey(part))
                    throw json.Error($"model.merges[{i}]", $"(\"{left}\" + \"{right}\") uses \"{part}\", which is not in model.vocab");
            }
        }
        var (added, special) = ReadAddedTokens(json, root);
        foreach (var (content, id) in added)
        {
            if (vocabulary.TryGetValue(content, out var other) && other != id)
                throw json.Error("added_tokens", $"gives \"{content}\" id {id}, but model.vocab gives it {other}");
        }
        var vocabSize = Math.Max(vocabulary.Values.DefaultIfEmpty(-1).Max(), added.Values.DefaultIfEmpty(-1).Max()) + 1;
        var preTokenizer = JsonFields.Optional(root, "pre_tokenizer");
        var normalizer = JsonFields.Optional(root, "normalizer");
        var byteFallback = json.OptionalBool(model, "model", "byte_fallback") ?? false;
        postProcessorBos = FindTemplateBos(JsonFields.Optional(root, "post_processor"));
        var preTokenizers = Flatten(json, preTokenizer, "pre_tokenizer");
        var normalizers = Flatten(json, normalizer, "normalizer");

        if (preTokenizers.Any(p => p.Type == "ByteLevel"))
        {
            if (byteFallback)
                throw json.Error("model.byte_fallback", "is true, which byte-level BPE does not use");
            for (int b = 0; b < 256; b++)
            {
                if (!vocabulary.ContainsKey(ByteLevelBpe.ByteSymbol(b).ToString()))
                    throw json.Error("model.vocab", $"lacks \"{ByteLevelBpe.ByteSymbol(b)}\", the byte-level symbol of byte 0x{b:X2}");
            }
            var byteLevel = ByteLevel(json, json.OptionalBool(model, "model", "ignore_merges") ?? false, vocabulary, merges, preTokenizers, normalizers);
            return new HuggingFaceTokenizer(TokenizerKind.ByteLevelBpe, byteLevel, vocabulary, added, special, vocabSize);
        }
        if (byteFallback || preTokenizers.Any(p => p.Type == "Metaspace") || normalizers.Any(n => n.Type == "Replace"))
        {
            for (int b = 0; byteFallback && b < 256; b++)
            {
                if (!vocabulary.ContainsKey($"<0x{b:X2}>"))
                    throw json.Error("model.vocab", $"lacks \"<0x{b:X2}>\", which model.byte_fallback needs");
            }
            var unk = json.OptionalString(model, "model", "unk_token");
            int? unkId = unk is null ? null : vocabulary.TryGetValue(unk, out var u) ? u : throw json.Error("model.unk_token", $"names \"{unk}\", which is not in model.vocab");
            var ranks = new Dictionary<(string, string), int>();
            for (int i = 0; i < merges.Count; i++)
                ranks.TryAdd(merges[i], i);
            var sentencePiece = new SentencePieceBpe(vocabulary, ranks, byteFallback, unkId, json.OptionalBool(model, "model", "fuse_unk") ?? false, Metaspace(json, preTokenizers, normalizers));
            return new HuggingFaceTokenizer(TokenizerKind.SentencePieceBpe, sentencePiece, vocabulary, added, special, vocabSize);
        }
        throw json.Error("pre_tokenizer", "is neither ByteLevel (byte-level BPE) nor Metaspace, and model.byte_fallback is not set (SentencePiece BPE): unsupported tokenizer");
    }

    private static ByteLevelBpe ByteLevel(JsonFields json, bool ignoreMerges, Dictionary<string, int> vocabulary, List<(string, string)> merges, List<(string Type, JsonElement Element, string Path)> preTokenizers, List<(string Type, JsonElement Element, string Path)> normalizers)
    {
        var splits = new List<Regex>();
        bool addPrefixSpace = false;
        foreach (var (type, element, path) in preTokenizers)
        {
            switch (type)
            {
                case "ByteLevel":
                    addPrefixSpace |= json.OptionalBool(element, path, "add_prefix_space") ?? false;
                    if (json.OptionalBool(element, path, "use_regex") ?? true)
                        splits.Add(new Regex(ByteLevelBpe.Gpt2Pattern, RegexOptions.CultureInvariant));
                    break;
                case "Split":
                    var behavior = json.String(element, path, "behavior");
                    if (behavior != "Isolated")
                        throw json.Error(path + ".behavior", $"is \"{behavior}\"; only \"Isolated\" is supported");
                    if (json.OptionalBool(element, path, "invert") == true)
                        throw json.Error(path + ".invert", "is true, which is not supported");
                    var pattern = json.Object(element, path, "pattern");
                    var regex = json.OptionalString(pattern, path + ".pattern", "Regex");
                    var literal = json.OptionalString(pattern, path + ".pattern", "String");
                    if (regex is null && literal is null)
                        throw json.Error(path + ".pattern", "needs \"Regex\" or \"String\"");
                    try
                    {
                        splits.Add(new Regex(regex ?? Regex.Escape(literal!), RegexOptions.CultureInvariant));
                    }
                    catch (ArgumentException e)
                    {
                        throw json.Error(path + ".pattern.Regex", $"is not a regular expression .NET can use ({e.Message})");
                    }
                    break;
                case "Digits":
                    splits.Add(new Regex(json.OptionalBool(element, path, "individual_digits") == true ? @"\p{Nd}" : @"\p{Nd}+", RegexOptions.CultureInvariant));
                    break;
                default:
                    throw json.Error(path + ".type", $"is \"{type}\", which is not supported with byte-level BPE (ByteLevel, Split, Digits are)");
            }
        }
        foreach (var (type, _, path) in normalizers)
        {
            // NFC (Qwen2) is accepted but not applied: with InvariantGlobalization .NET cannot normalize, and
            // text is nearly always NFC already.
            if (type != "NFC")
                throw json.Error(path + ".type", $"is \"{type}\", which is not supported with byte-level BPE (only NFC is)");
        }
        var mergeStrings = new List<string>(merges.Count);
        foreach (var (left, right) in merges)
        {
            // Byte-level symbols never hold a space (it is "Ġ"), so "left right" is unambiguous.
            if (left.Contains(' ') || right.Contains(' '))
                throw json.Error("model.merges", $"holds \"{left}\" + \"{right}\" with a space, which byte-level BPE cannot have");
            mergeStrings.Add(left + " " + right);
        }
        return new ByteLevelBpe(vocabulary, mergeStrings, splits, addPrefixSpace, ignoreMerges);
    }

    private static MetaspaceSettings Metaspace(JsonFields json, List<(string Type, JsonElement Element, string Path)> preTokenizers, List<(string Type, JsonElement Element, string Path)> normalizers)
    {
        var prepend = PrependScheme.Never;
        bool split = false;
        foreach (var (type, element, path) in normalizers)
        {
            switch (type)
            {
                case "Prepend":
                    var prefix = json.String(element, path, "prepend");
                    if (prefix != SentencePieceBpe.Space.ToString())
                        throw json.Error(path + ".prepend", $"is \"{prefix}\"; only \"▁\" is supported");
                    prepend = PrependScheme.Always;
                    break;
                case "Replace":
                    var pattern = json.Object(element, path, "pattern");
                    var from = json.OptionalString(pattern, path + ".pattern", "String");
                    var to = json.String(element, path, "content");
                    if (from != " " || to != SentencePieceBpe.Space.ToString())
                        throw json.Error(path, "must replace \" \" with \"▁\"; other replacements are not supported");
                    break;
                case "NFKC":
                    throw json.Error(path + ".type", "is \"NFKC\", which is not supported");
                default:
                    throw json.Error(path + ".type", $"is \"{type}\", which is not supported with SentencePiece BPE (Prepend, Replace are)");
            }
        }
        foreach (var (type, element, path) in preTokenizers)
        {
            if (type != "Metaspace")
                throw json.Error(path + ".type", $"is \"{type}\", which is not supported with SentencePiece BPE (only Metaspace is)");
            var replacement = json.OptionalString(element, path, "replacement") ?? "▁";
            if (replacement != SentencePieceBpe.Space.ToString())
                throw json.Error(path + ".replacement", $"is \"{replacement}\"; only \"▁\" is supported");
            split = json.OptionalBool(element, path, "split") ?? true;
            var scheme = json.OptionalString(element, path, "prepend_scheme");
            prepend = scheme switch
            {
                "always" => PrependScheme.Always,
                "first" => PrependScheme.First,
                "never" => PrependScheme.Never,
                null => json.OptionalBool(element, path, "add_prefix_space") == false ? PrependScheme.Never : PrependScheme.Always,
                _ => throw json.Error(path + ".prepend_scheme", $"is \"{scheme}\"; expected always, first or never"),
            };
        }
        return new MetaspaceSettings(prepend, split);
    }

    /// <summary>A normalizer or pre-tokenizer, with the members of a "Sequence" listed in order.</summary>
    private static List<(string Type, JsonElement Element, string Path)> Flatten(JsonFields json, JsonElement? element, string path)
    {
        var list = new List<(string, JsonElement, string)>();
        if (element is not { } e)
            return list;
        if (e.ValueKind != JsonValueKind.Object)
            throw json.Error(path, $"must be an object or null, got {e.ValueKind}");
        var type = json.String(e, path, "type");
        if (type != "Sequence")
        {
            list.Add((type, e, path));
            return list;
        }
        var member = path == "normalizer" ? "normalizers" : "pretokenizers";
        var items = json.Required(e, path, member);
        if (items.ValueKind != JsonValueKind.Array)
            throw json.Error(path + "." + member, $"must be an array, got {items.ValueKind}");
        int i = 0;
        foreach (var item in items.EnumerateArray())
            list.AddRange(Flatten(json, item, $"{path}.{member}[{i++}]"));
        return list;
    }

    private static Dictionary<string, int> ReadVocabulary(JsonFields json, JsonElement model)
    {
        var vocab = json.Object(model, "model", "vocab");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw json.Error($"model.vocab[\"{entry.Name}\"]", $"must be a non-negative integer id, got {entry.Value}");
            if (!vocabulary.TryAdd(entry.Name, id))
                throw json.Error("model.vocab", $"lists \"{entry.Name}\" twice");
        }
        if (vocabulary.Count == 0)
            throw json.Error("model.vocab", "is empty");
        var duplicate = vocabulary.GroupBy(p => p.Value).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw json.Error("model.vocab", $"gives id {duplicate.Key} to more than one token ({string.Join(", ", duplicate.Select(p => $"\"{p.Key}\""))})");
        return vocabulary;
    }

    /// <summary>Merges as "left right" strings (older files) or ["left", "right"] pairs (newer ones).</summary>
    private static List<(string, string)> ReadMerges(JsonFields json, JsonElement model)
    {
        var merges = new List<(string, string)>();
        var element = JsonFields.Optional(model, "merges");
        if (element is null)
            return merges;
        if (element.Value.ValueKind != JsonValueKind.Array)
            throw json.Error("model.merges", $"must be an array, got {element.Value.ValueKind}");
        int i = 0;
        foreach (var merge in element.Value.EnumerateArray())
        {
            var field = $"model.merges[{i++}]";
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                merges.Add(parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0 ? (parts[0], parts[1]) : throw json.Error(field, $"must be two symbols separated by one space, got \"{merge.GetString()}\""));
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2 && merge.EnumerateArray().All(p => p.ValueKind == JsonValueKind.String))
            {
                merges.Add((merge[0].GetString()!, merge[1].GetString()!));
            }
            else
            {
                throw json.Error(field, $"must be \"left right\" or [\"left\", \"right\"], got {merge}");
            }
        }
        return merges;
    }

    private static (Dictionary<string, int> Added, HashSet<int> Special) ReadAddedTokens(JsonFields json, JsonElement root)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var special = new HashSet<int>();
        var element = JsonFields.Optional(root, "added_tokens");
        if (element is null)
            return (added, special);
        if (element.Value.ValueKind != JsonValueKind.Array)
            throw json.Error("added_tokens", $"must be an array, got {element.Value.ValueKind}");
        int i = 0;
        foreach (var token in element.Value.EnumerateArray())
        {
            var path = $"added_tokens[{i++}]";
            if (token.ValueKind != JsonValueKind.Object)
                throw json.Error(path, $"must be an object, got {token.ValueKind}");
            var idElement = json.Required(token, path, "id");
            if (idElement.ValueKind != JsonValueKind.Number || !idElement.TryGetInt32(out var id) || id < 0)
                throw json.Error(path + ".id", $"must be a non-negative integer, got {idElement}");
            var content = json.String(token, path, "content");
            if (content.Length == 0)
                throw json.Error(path + ".content", "is empty");
            if (!added.TryAdd(content, id))
                throw json.Error(path + ".content", $"\"{content}\" is added twice");
            if (json.OptionalBool(token, path, "special") ?? false)
                special.Add(id);
        }
        return (added, special);
    }

    /// <summary>The special token a TemplateProcessing post-processor puts first in a single sequence, if any.</summary>
    private static string? FindTemplateBos(JsonElement? postProcessor)
    {
        if (postProcessor is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("type", out var type))
            return null;
        if (type.ValueEquals("Sequence") && p.TryGetProperty("processors", out var processors) && processors.ValueKind == JsonValueKind.Array)
            return processors.EnumerateArray().Select(e => FindTemplateBos(e)).FirstOrDefault(b => b is not null);
        if (!type.ValueEquals("TemplateProcessing") || !p.TryGetProperty("single", out var single) || single.ValueKind != JsonValueKind.Array || single.GetArrayLength() == 0)
            return null;
        return single[0].TryGetProperty("SpecialToken", out var first) && first.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
    }

    private void ReadConfig(string? configFile, string tokenizerFile, string? postProcessorBos)
    {
        string? bos = null, eos = null, pad = null;
        bool? addBos = null;
        if (configFile is not null)
        {
            using var document = JsonFields.Parse(configFile);
            var json = new JsonFields(configFile);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new TokenizerFormatException($"{configFile}: expected a JSON object");
            bos = TokenContent(json, root, "bos_token");
            eos = TokenContent(json, root, "eos_token");
            pad = TokenContent(json, root, "pad_token");
            addBos = json.OptionalBool(root, "", "add_bos_token");
            ChatTemplate = ReadChatTemplate(json, root);
            EosId = eos is null ? throw json.Error("eos_token", "is missing") : Id(json, "eos_token", eos);
            BosId = (addBos ?? postProcessorBos is not null) && bos is not null ? Id(json, "bos_token", bos) : null;
            if (addBos == true && bos is null)
                throw json.Error("bos_token", "is missing, but add_bos_token is true");
            PadId = pad is null ? EosId : Id(json, "pad_token", pad);
        }
        else
        {
            eos = KnownEosTokens.FirstOrDefault(_added.ContainsKey)
                ?? throw new TokenizerFormatException($"{tokenizerFile}: no {ConfigFile} beside it names the eos_token, and none of {string.Join(", ", KnownEosTokens)} is an added token");
            EosId = _added[eos];
            bos = postProcessorBos;
            BosId = bos is null ? null : TokenId(bos) ?? throw new TokenizerFormatException($"{tokenizerFile}: field \"post_processor\" starts sequences with \"{bos}\", which is not a token");
            PadId = EosId;
        }
        BosToken = bos;
        EosToken = eos;
    }

    private int Id(JsonFields json, string field, string token)
        => TokenId(token) ?? throw json.Error(field, $"names \"{token}\", which is not a token of {TokenizerFile}");

    /// <summary>A token given as a string or as {"content": ...}.</summary>
    private static string? TokenContent(JsonFields json, JsonElement root, string field)
    {
        var value = JsonFields.Optional(root, field);
        return value?.ValueKind switch
        {
            null => null,
            JsonValueKind.String => value.Value.GetString(),
            JsonValueKind.Object => json.String(value.Value, field, "content"),
            _ => throw json.Error(field, $"must be a string or an object with \"content\", got {value.Value.ValueKind}"),
        };
    }

    /// <summary>The template as a string, or the one named "default" where a list of named templates is given.</summary>
    private static string? ReadChatTemplate(JsonFields json, JsonElement root)
    {
        var value = JsonFields.Optional(root, "chat_template");
        switch (value?.ValueKind)
        {
            case null:
                return null;
            case JsonValueKind.String:
                return value.Value.GetString();
            case JsonValueKind.Array:
                foreach (var named in value.Value.EnumerateArray())
                {
                    if (named.ValueKind == JsonValueKind.Object && named.TryGetProperty("name", out var name) && name.ValueEquals("default"))
                        return json.String(named, "chat_template[default]", "template");
                }
                throw json.Error("chat_template", "is a list without a template named \"default\"");
            default:
                throw json.Error("chat_template", $"must be a string or a list of named templates, got {value.Value.ValueKind}");
        }
    }
}
