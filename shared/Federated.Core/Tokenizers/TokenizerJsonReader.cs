using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Federated.Core.Tokenizers.Unicode;

namespace Federated.Core.Tokenizers;

/// <summary>What a tokenizer.json defines: the segment model with its normalizers and pre-tokenizers, the added tokens, and the special tokens the post-processor puts around a sequence.</summary>
internal sealed record TokenizerDefinition(
    TokenizerKind Kind,
    ISegmentModel Model,
    Dictionary<string, int> Vocabulary,
    Dictionary<string, int> Added,
    HashSet<int> Special,
    int VocabSize,
    Func<string, string>? Normalize,
    string[] PrefixTokens,
    string[] SuffixTokens);

/// <summary>Reads a Hugging Face tokenizer.json (BPE models), refusing what it cannot run exactly and naming the field.</summary>
internal static class TokenizerJsonReader
{
    public static TokenizerDefinition Read(string file)
    {
        try
        {
            return ReadFile(file);
        }
        catch (InvalidOperationException e)
        {
            // A \u escape naming a lone surrogate is refused only as its string is read, wherever that is.
            throw new TokenizerFormatException($"{file}: holds a string that is not valid UTF-16 ({e.Message})");
        }
    }

    private static TokenizerDefinition ReadFile(string file)
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
        var (prefix, suffix) = SpecialTokensAround(json, JsonFields.Optional(root, "post_processor"), "post_processor");
        var preTokenizers = Flatten(json, preTokenizer, "pre_tokenizer");
        var normalizers = Flatten(json, normalizer, "normalizer");
        var unicodeForms = UnicodeForms(json, normalizers);
        normalizers = [.. normalizers.Where(n => !IsUnicodeForm(n.Type))];
        TokenizerDefinition Definition(TokenizerKind kind, ISegmentModel segmentModel)
            => new(kind, segmentModel, vocabulary, added, special, vocabSize, unicodeForms, prefix, suffix);

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
            return Definition(TokenizerKind.ByteLevelBpe, byteLevel);
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
            var splitRules = preTokenizers.Where(p => p.Type == "Split").Select(p => SplitRuleOf(json, p.Element, p.Path)).ToList();
            var sentencePiece = new SentencePieceBpe(vocabulary, ranks, byteFallback, unkId, json.OptionalBool(model, "model", "fuse_unk") ?? false, Metaspace(json, [.. preTokenizers.Where(p => p.Type != "Split")], normalizers), new PreTokenizerSplits(splitRules));
            return Definition(TokenizerKind.SentencePieceBpe, sentencePiece);
        }
        throw json.Error("pre_tokenizer", "is neither ByteLevel (byte-level BPE) nor Metaspace, and model.byte_fallback is not set (SentencePiece BPE): unsupported tokenizer");
    }

    private static ByteLevelBpe ByteLevel(JsonFields json, bool ignoreMerges, Dictionary<string, int> vocabulary, List<(string, string)> merges, List<(string Type, JsonElement Element, string Path)> preTokenizers, List<(string Type, JsonElement Element, string Path)> normalizers)
    {
        var splits = new List<SplitRule>();
        bool addPrefixSpace = false;
        foreach (var (type, element, path) in preTokenizers)
        {
            switch (type)
            {
                case "ByteLevel":
                    addPrefixSpace |= json.OptionalBool(element, path, "add_prefix_space") ?? false;
                    if (json.OptionalBool(element, path, "use_regex") ?? true)
                        splits.Add(new SplitRule(new Regex(ByteLevelBpe.Gpt2Pattern, RegexOptions.CultureInvariant), SplitBehavior.Isolated));
                    break;
                case "Split":
                    splits.Add(SplitRuleOf(json, element, path));
                    break;
                case "Digits":
                    splits.Add(new SplitRule(new Regex(json.OptionalBool(element, path, "individual_digits") == true ? @"\p{Nd}" : @"\p{Nd}+", RegexOptions.CultureInvariant), SplitBehavior.Isolated));
                    break;
                default:
                    throw json.Error(path + ".type", $"is \"{type}\", which is not supported with byte-level BPE (ByteLevel, Split, Digits are)");
            }
        }
        foreach (var (type, _, path) in normalizers)
            throw json.Error(path + ".type", $"is \"{type}\", which is not supported with byte-level BPE (NFC, NFD, NFKC, NFKD, Lowercase are)");
        var mergeStrings = new List<string>(merges.Count);
        foreach (var (left, right) in merges)
        {
            // Byte-level symbols never hold a space (it is "Ġ"), so "left right" is unambiguous.
            if (left.Contains(' ') || right.Contains(' '))
                throw json.Error("model.merges", $"holds \"{left}\" + \"{right}\" with a space, which byte-level BPE cannot have");
            mergeStrings.Add(left + " " + right);
        }
        return new ByteLevelBpe(vocabulary, mergeStrings, new PreTokenizerSplits(splits), addPrefixSpace, ignoreMerges);
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
                default:
                    throw json.Error(path + ".type", $"is \"{type}\", which is not supported with SentencePiece BPE (Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase are)");
            }
        }
        foreach (var (type, element, path) in preTokenizers)
        {
            if (type != "Metaspace")
                throw json.Error(path + ".type", $"is \"{type}\", which is not supported with SentencePiece BPE (Metaspace and Split are)");
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

    /// <summary>
    /// The special tokens a TemplateProcessing post-processor puts before and after a single sequence
    /// (add_special_tokens=True); other post-processors (ByteLevel) add none.
    /// </summary>
    private static (string[] Prefix, string[] Suffix) SpecialTokensAround(JsonFields json, JsonElement? postProcessor, string path)
    {
        if (postProcessor is not { } p)
            return ([], []);
        var type = json.String(p, path, "type");
        if (type == "Sequence")
        {
            var processors = json.Required(p, path, "processors");
            if (processors.ValueKind != JsonValueKind.Array)
                throw json.Error(path + ".processors", $"must be an array, got {processors.ValueKind}");
            var found = processors.EnumerateArray().Select((e, i) => SpecialTokensAround(json, e, $"{path}.processors[{i}]")).Where(f => f.Prefix.Length + f.Suffix.Length > 0).ToList();
            return found.Count switch
            {
                0 => ([], []),
                1 => found[0],
                _ => throw json.Error(path, "holds more than one TemplateProcessing; only one is supported"),
            };
        }
        if (type != "TemplateProcessing")
            return ([], []);
        var single = json.Required(p, path, "single");
        if (single.ValueKind != JsonValueKind.Array)
            throw json.Error(path + ".single", $"must be an array, got {single.ValueKind}");
        var prefix = new List<string>();
        var suffix = new List<string>();
        bool sequenceSeen = false;
        int i = 0;
        foreach (var item in single.EnumerateArray())
        {
            var itemPath = $"{path}.single[{i++}]";
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out _))
            {
                sequenceSeen = true;
                continue;
            }
            var token = item.ValueKind == JsonValueKind.Object ? JsonFields.Optional(item, "SpecialToken") : null;
            if (token is not { ValueKind: JsonValueKind.Object })
                throw json.Error(itemPath, "must be {\"SpecialToken\": …} or {\"Sequence\": …}");
            (sequenceSeen ? suffix : prefix).Add(json.String(token.Value, itemPath + ".SpecialToken", "id"));
        }
        return ([.. prefix], [.. suffix]);
    }

    private static SplitRule SplitRuleOf(JsonFields json, JsonElement element, string path)
    {
        var behaviorName = json.String(element, path, "behavior");
        var behavior = behaviorName switch
        {
            "Isolated" => SplitBehavior.Isolated,
            "Removed" => SplitBehavior.Removed,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            _ => throw json.Error(path + ".behavior", $"is \"{behaviorName}\"; Isolated, Removed, MergedWithPrevious and MergedWithNext are supported"),
        };
        if (json.OptionalBool(element, path, "invert") == true)
            throw json.Error(path + ".invert", "is true, which is not supported");
        var pattern = json.Object(element, path, "pattern");
        var regex = json.OptionalString(pattern, path + ".pattern", "Regex");
        var literal = json.OptionalString(pattern, path + ".pattern", "String");
        if (regex is null && literal is null)
            throw json.Error(path + ".pattern", "needs \"Regex\" or \"String\"");
        try
        {
            return new SplitRule(new Regex(regex ?? Regex.Escape(literal!), RegexOptions.CultureInvariant), behavior);
        }
        catch (ArgumentException e)
        {
            throw json.Error(path + ".pattern.Regex", $"is not a regular expression .NET can use ({e.Message})");
        }
    }

    private static bool IsUnicodeForm(string type) => type is "NFC" or "NFD" or "NFKC" or "NFKD" or "Lowercase";

    /// <summary>The Unicode normalizers (and Lowercase), applied in file order before the model's own normalizing.</summary>
    private static Func<string, string>? UnicodeForms(JsonFields json, List<(string Type, JsonElement Element, string Path)> normalizers)
    {
        var steps = new List<Func<string, string>>();
        bool others = false;
        foreach (var (type, _, path) in normalizers)
        {
            if (!IsUnicodeForm(type))
            {
                others = true;
                continue;
            }
            if (others)
                throw json.Error(path + ".type", $"is \"{type}\" after a Replace or Prepend; Unicode normalizers must come first");
            steps.Add(type switch
            {
                "NFC" => t => UnicodeNormalizer.Normalize(t, NormalizationForm.FormC),
                "NFD" => t => UnicodeNormalizer.Normalize(t, NormalizationForm.FormD),
                "NFKC" => t => UnicodeNormalizer.Normalize(t, NormalizationForm.FormKC),
                "NFKD" => t => UnicodeNormalizer.Normalize(t, NormalizationForm.FormKD),
                _ => t => t.ToLowerInvariant(),
            });
        }
        return steps.Count == 0 ? null : text => steps.Aggregate(text, (t, step) => step(t));
    }
}
