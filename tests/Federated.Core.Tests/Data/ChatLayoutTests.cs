using Federated.Core.Data;
using Federated.Core.Tests.Tokenizers;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Data;

public sealed class ChatLayoutTests : IDisposable
{
    private static readonly TextExample Conversation = new("What is 2+2?", "4", "math")
    {
        Context = [new(ChatRoles.System, "Be brief."), new(ChatRoles.User, "Hi"), new(ChatRoles.Assistant, "Hello")],
    };

    private readonly TokenizerFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData(ChatFormat.ChatMl, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "4<|im_end|>")]
    [InlineData(ChatFormat.Llama3, "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", "4<|eot_id|>")]
    [InlineData(ChatFormat.Plain, "Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n", "4")]
    public void Text_layouts_match_the_templates_and_only_the_last_reply_is_a_target(ChatFormat format, string prompt, string target)
    {
        var example = TokenizedExample.From(Conversation, ByteTokenizer.Instance, format, 1024);
        var tokenizer = ByteTokenizer.Instance;
        Assert.Equal(ByteTokenizer.Bos, example.Tokens[0]);
        Assert.Equal(prompt, tokenizer.Decode(example.Tokens[..example.PromptLength]));
        Assert.Equal(target, tokenizer.Decode(example.Tokens[example.PromptLength..]));
        // Formats whose turns end in a text marker add no EOS.
        Assert.Equal(format == ChatFormat.Plain, example.Tokens[^1] == ByteTokenizer.Eos);
    }

    [Fact]
    public void Llama2_and_Zephyr_put_BOS_and_EOS_ids_between_turns()
    {
        var tokenizer = ByteTokenizer.Instance;
        var llama2 = TokenizedExample.From(Conversation, tokenizer, ChatFormat.Llama2, 1024);
        const int bos = ByteTokenizer.Bos, eos = ByteTokenizer.Eos;
        int[] expected = [bos, .. tokenizer.Encode("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello "), eos, bos, .. tokenizer.Encode("[INST] What is 2+2? [/INST]"), .. tokenizer.Encode(" 4 "), eos];
        Assert.Equal(expected, llama2.Tokens);
        Assert.Equal(expected.Length - 4, llama2.PromptLength);

        var zephyr = TokenizedExample.From(Conversation, tokenizer, ChatFormat.Zephyr, 1024);
        Assert.Equal("<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>\nHello\n<|user|>\nWhat is 2+2?\n<|assistant|>\n", tokenizer.Decode(zephyr.Tokens[..zephyr.PromptLength]));
        Assert.Equal(5, zephyr.Tokens.Count(t => t == eos));
        Assert.Equal([.. tokenizer.Encode("4"), eos], zephyr.Tokens[zephyr.PromptLength..]);
    }

    [Fact]
    public void Raw_layout_with_the_byte_tokenizer_is_the_built_in_format()
    {
        var example = new TextExample("add 1+2=", "3");
        var raw = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 64);
        Assert.Equal([ByteTokenizer.Bos, .. "add 1+2=3".Select(c => (int)c), ByteTokenizer.Eos], raw.Tokens);
        Assert.Equal(9, raw.PromptLength);
        var plain = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Plain, 64);
        Assert.Equal("### Instruction:\nadd 1+2=\n\n### Response:\n3", ByteTokenizer.Instance.Decode(plain.Tokens));
    }

    [Fact]
    public void Plain_text_is_trained_on_every_token()
    {
        var example = TokenizedExample.From(TextExample.PlainText("abc"), ByteTokenizer.Instance, ChatFormat.ChatMl, 64);
        Assert.Equal([ByteTokenizer.Bos, 'a', 'b', 'c', ByteTokenizer.Eos], example.Tokens);
        Assert.Equal(1, example.PromptLength);
    }

    [Fact]
    public void ChatML_markers_become_special_ids_and_the_target_is_reply_plus_end_marker()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel()));
        var example = TokenizedExample.From(new TextExample("hi", "hello world"), tokenizer, ChatFormat.ChatMl, 64);
        int[] expected = [301, .. "user\nhi".Select(c => (int)c), 302, '\n', 301, .. "assistant\n".Select(c => (int)c), 258, 'o', 261, 'l', 'd', 302];
        Assert.Equal(expected, example.Tokens);
        Assert.Equal(expected.Length - 6, example.PromptLength);
    }

    [Fact]
    public void SentencePiece_Llama2_layout_starts_with_BOS_and_trains_on_the_reply()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.SentencePiece()));
        var example = TokenizedExample.From(new TextExample("he", "hello world"), tokenizer, ChatFormat.Llama2, 128);
        Assert.Equal(1, example.Tokens[0]);
        Assert.Equal(2, example.Tokens[^1]);
        Assert.Equal("[INST] he [/INST] hello world ", tokenizer.Decode(example.Tokens));
        // " hello world " after "[/INST]" is ▁hell o ▁wor l d ▁, then EOS.
        Assert.Equal([273, 263, 272, 262, 266, 259, 2], example.Tokens[example.PromptLength..]);
    }

    [Fact]
    public void A_prompt_longer_than_the_limit_is_refused_and_a_long_reply_is_cut()
    {
        var example = new TextExample("abcdef", "ghij");
        Assert.Contains("does not fit the 5-token sequence limit", Assert.Throws<ArgumentException>(() => TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 5)).Message);
        var cut = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 9);
        Assert.Equal(9, cut.Tokens.Length);
        Assert.Equal(7, cut.PromptLength);
    }
}
