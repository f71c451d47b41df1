using System.Text.Json.Nodes;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Tokenizers;

public sealed class HuggingFaceTokenizerTests : IDisposable
{
    private readonly TokenizerFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Byte_level_BPE_applies_merges_by_rank_and_leftmost_first()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel()));
        Assert.Equal(TokenizerKind.ByteLevelBpe, tokenizer.Kind);
        // "hello" → he l l o → he ll o → hell o; " world" → Ġw o r l d → Ġw or l d → Ġwor l d.
        Assert.Equal([258, 'o', 261, 'l', 'd'], tokenizer.Encode("hello world"));
        // Two equal-rank candidates in "lll": the leftmost merges.
        Assert.Equal([257, 'l'], tokenizer.Encode("lll"));
        // GPT-2's split keeps "12345" whole; "3 4" outranks "1 2": 1 2 34 5, then 12 34 5.
        Assert.Equal([263, 262, '5'], tokenizer.Encode("12345"));
        Assert.Equal(303, tokenizer.VocabSize);
    }

    [Fact]
    public void Byte_level_BPE_round_trips_any_text_and_splits_out_special_tokens()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel()));
        const string text = "héllo wörld ✓\n\ttabs  and 🙂 emoji";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        // é is the two bytes C3 A9.
        Assert.Equal([0xC3, 0xA9], tokenizer.Encode("é"));
        Assert.Equal([301, 'h', 'i', 302, 300], tokenizer.Encode("<|im_start|>hi<|im_end|><|endoftext|>"));
        Assert.Equal("hi", tokenizer.Decode([301, 'h', 'i', 302]));
        Assert.Equal("hi", tokenizer.Decode(['h', 9999, 'i', -1]));
    }

    [Fact]
    public void Unicode_normalizers_are_applied_and_others_are_named()
    {
        var file = TokenizerFiles.ByteLevel();
        file["normalizer"] = new JsonObject { ["type"] = "NFC" };
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(file));
        Assert.Equal([0xC3, 0xA9], tokenizer.Encode("e\u0301"));
        file["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFKC" }, new JsonObject { ["type"] = "Lowercase" }) };
        Assert.Equal("fi1".Select(c => (int)c), HuggingFaceTokenizer.Load(_files.Write(file)).Encode("ﬁ①"));
        file["normalizer"] = new JsonObject { ["type"] = "BertNormalizer" };
        Assert.Contains("field \"normalizer.type\" is \"BertNormalizer\"", Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizer.Load(_files.Write(file))).Message);
    }

    [Fact]
    public void With_ignore_merges_a_piece_in_the_vocabulary_is_one_token()
    {
        var file = TokenizerFiles.ByteLevel();
        file["model"]!["vocab"]!["hel"] = 265;
        Assert.Equal([256, 'l'], HuggingFaceTokenizer.Load(_files.Write(file)).Encode("hel"));
        file["model"]!["ignore_merges"] = true;
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(file));
        Assert.Equal([265, 261, 'l', 'd'], tokenizer.Encode("hel world"));
        Assert.Equal([258, 'o'], tokenizer.Encode("hello"));
    }

    [Fact]
    public void A_split_regex_before_a_byte_level_step_decides_the_pieces()
    {
        var bos = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|endoftext|>" } }, new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A" } }),
        };
        var sequence = new JsonObject { ["type"] = "Sequence", ["processors"] = new JsonArray(new JsonObject { ["type"] = "ByteLevel" }, bos) };
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(TokenizerFiles.Llama3PreTokenizer(), sequence)));
        // Llama 3 splits digits in threes: "123" | "45", so "1 2" then "12 3" apply and "3 4" cannot.
        Assert.Equal([264, '4', '5'], tokenizer.Encode("12345"));
        Assert.Equal([258, 'o', 261, 'l', 'd'], tokenizer.Encode("hello world"));
        // No tokenizer_config.json: EOS is a known added token, BOS comes from the post-processor.
        Assert.Equal(300, tokenizer.EosId);
        Assert.Equal(300, tokenizer.BosId);
    }

    [Fact]
    public void Tokenizer_config_gives_special_ids_and_the_chat_format()
    {
        var config = new JsonObject
        {
            ["bos_token"] = null,
            ["eos_token"] = new JsonObject { ["content"] = "<|im_end|>" },
            ["pad_token"] = "<|endoftext|>",
            ["chat_template"] = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}",
        };
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(), config));
        Assert.Null(tokenizer.BosId);
        Assert.Equal(302, tokenizer.EosId);
        Assert.Equal(300, tokenizer.PadId);
        Assert.Equal(ChatFormat.Template, tokenizer.ChatFormat);
        Assert.Equal("ByteLevelBpe tokenizer with 303 ids, the model's chat_template", tokenizer.Description);
        config["chat_template"] = new JsonArray(new JsonObject { ["name"] = "tool_use", ["template"] = "x" }, new JsonObject { ["name"] = "default", ["template"] = "{{ messages | length }}" });
        var named = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(), config));
        Assert.Equal("{{ messages | length }}", named.ChatTemplate);
        Assert.Equal("1", named.Template!.Render([new("user", "hi")], addGenerationPrompt: false));
        config.Remove("chat_template");
        var plain = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(), config));
        Assert.Equal(ChatFormat.Plain, plain.ChatFormat);
        Assert.Contains("no chat_template: plain", plain.Description);
    }

    [Fact]
    public void SentencePiece_BPE_marks_spaces_merges_and_falls_back_to_bytes()
    {
        var config = new JsonObject { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["add_bos_token"] = true, ["chat_template"] = "{{ bos_token + '[INST] ' + messages[0].content + ' [/INST]' }}" };
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.SentencePiece(), config));
        Assert.Equal(TokenizerKind.SentencePieceBpe, tokenizer.Kind);
        // "▁hello▁world": he, ll, hell, ▁w, or, ▁wor, then ▁hell.
        Assert.Equal([273, 263, 272, 262, 266], tokenizer.Encode("hello world"));
        // é is not a piece: its bytes C3 A9 become <0xC3> <0xA9>.
        Assert.Equal([259, 260, 3 + 0xC3, 3 + 0xA9], tokenizer.Encode("hé"));
        const string text = "hello wörld, ✓ 🙂";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        // Legacy layout: the "▁" is prepended to every piece of text between added tokens.
        Assert.Equal([259, 267, 2, 259, 267], tokenizer.Encode("he</s>he"));
        Assert.Equal("he he", tokenizer.Decode([1, 259, 267, 2, 259, 267]));
        Assert.Equal((1, 2, 2), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal(ChatFormat.Template, tokenizer.ChatFormat);
    }

    [Fact]
    public void SentencePiece_with_a_metaspace_pre_tokenizer_prepends_only_to_the_first_piece()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.SentencePiece(metaspace: true)));
        Assert.Equal([273, 263, 272, 262, 266], tokenizer.Encode("hello world"));
        Assert.Equal([259, 267, 2, 267], tokenizer.Encode("he</s>he"));
        Assert.Equal(1, tokenizer.BosId);
    }

    [Fact]
    public void SentencePiece_merges_cross_word_starts_when_the_vocabulary_has_such_pieces()
    {
        var file = TokenizerFiles.SentencePiece();
        file["model"]!["vocab"]!["o▁"] = 274;
        file["model"]!["merges"]!.AsArray().Insert(0, "o ▁");
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(file));
        // "o ▁" goes first, so "▁w" and "▁wor" can no longer form: ▁hell o▁ w or l d.
        Assert.Equal([273, 274, 264, 271, 262, 266], tokenizer.Encode("hello world"));
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
    }

    [Fact]
    public void Bad_tokenizer_files_are_named_with_the_field()
    {
        string Error(JsonObject tokenizer, JsonObject? config = null)
            => Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizer.Load(_files.Write(tokenizer, config))).Message;

        var unigram = TokenizerFiles.ByteLevel();
        unigram["model"]!["type"] = "Unigram";
        Assert.Contains("field \"model.type\" is \"Unigram\"; only \"BPE\"", Error(unigram));

        var noVocab = TokenizerFiles.ByteLevel();
        noVocab["model"]!.AsObject().Remove("vocab");
        Assert.Contains("tokenizer.json: field \"model.vocab\" is missing", Error(noVocab));

        var badMerge = TokenizerFiles.ByteLevel();
        badMerge["model"]!["merges"] = new JsonArray("h e", "hel");
        Assert.Contains("field \"model.merges[1]\" must be two symbols", Error(badMerge));

        var unknownMerge = TokenizerFiles.ByteLevel();
        unknownMerge["model"]!["merges"]!.AsArray().Add("d o");
        Assert.Contains("field \"model.merges[9]\" (\"d\" + \"o\") uses \"do\", which is not in model.vocab", Error(unknownMerge));

        var missingByte = TokenizerFiles.ByteLevel();
        missingByte["model"]!["vocab"]!.AsObject().Remove("Ā");
        Assert.Contains("field \"model.vocab\" lacks \"Ā\", the byte-level symbol of byte 0x00", Error(missingByte));

        var missingFallback = TokenizerFiles.SentencePiece();
        missingFallback["model"]!["vocab"]!.AsObject().Remove("<0x7F>");
        Assert.Contains("field \"model.vocab\" lacks \"<0x7F>\", which model.byte_fallback needs", Error(missingFallback));

        var split = TokenizerFiles.Llama3PreTokenizer();
        split["pretokenizers"]![0]!["behavior"] = "Contiguous";
        Assert.Contains("field \"pre_tokenizer.pretokenizers[0].behavior\" is \"Contiguous\"", Error(TokenizerFiles.ByteLevel(split)));

        var whitespace = TokenizerFiles.ByteLevel(new JsonObject { ["type"] = "Whitespace" });
        Assert.Contains("field \"pre_tokenizer\" is neither ByteLevel", Error(whitespace));

        var badId = TokenizerFiles.ByteLevel();
        badId["added_tokens"]![0]!["id"] = "three hundred";
        Assert.Contains("field \"added_tokens[0].id\" must be a non-negative integer", Error(badId));

        Assert.Contains("tokenizer_config.json: field \"eos_token\" names \"<eos>\", which is not a token", Error(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<eos>" }));

        File.WriteAllText(Path.Combine(_files.Folder, "tokenizer.json"), "{ not json");
        Assert.Contains("tokenizer.json: not valid JSON", Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizer.Load(_files.Folder)).Message);
        Assert.Contains("file not found", Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizer.Load(Path.Combine(_files.Folder, "missing.json"))).Message);
    }

    [Fact]
    public void A_template_using_an_unsupported_construct_is_refused_at_load_naming_it()
    {
        string Error(string template) => Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(), new JsonObject { ["eos_token"] = "<|im_end|>", ["chat_template"] = template }))).Message;
        Assert.Contains("tokenizer_config.json: field \"chat_template\"", Error("{% generation %}{{ x }}{% endgeneration %}"));
        Assert.Contains("the statement \"{% generation %}\" is not supported", Error("{% generation %}{{ x }}{% endgeneration %}"));
        Assert.Contains("the filter \"| wordcount\" is not supported", Error("{{ messages | wordcount }}"));
        Assert.Contains("the test \"is sameas\" is not supported", Error("{% if x is sameas y %}{% endif %}"));
        Assert.Contains("the template ends before \"{% endfor %}\"", Error("{% for m in messages %}{{ m }}"));
    }
}
