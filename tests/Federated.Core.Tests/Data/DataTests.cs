using Federated.Core.Data;

namespace Federated.Core.Tests.Data;

public class DataTests
{
    [Fact]
    public void Synthetic_train_and_test_splits_are_disjoint_and_reproducible()
    {
        var train = SyntheticSkills.Generate(3000, 1, DataSplit.Train);
        var test = SyntheticSkills.Generate(300, 1, DataSplit.Test);
        Assert.Empty(train.Select(Key).Intersect(test.Select(Key)));
        Assert.Equal(train.Select(Key), SyntheticSkills.Generate(3000, 1, DataSplit.Train).Select(Key));
        Assert.Equal(SyntheticSkills.Names.Order(), train.Select(e => e.Category).Distinct().Order());
    }

    [Fact]
    public void Synthetic_answers_are_exact()
    {
        foreach (var example in SyntheticSkills.Generate(200, 5, DataSplit.Train))
        {
            var argument = example.Prompt[(example.Prompt.IndexOf(' ') + 1)..^1];
            switch (example.Category)
            {
                case "reverse": Assert.Equal(new string(argument.Reverse().ToArray()), example.Completion); break;
                case "uppercase": Assert.Equal(argument.ToUpperInvariant(), example.Completion); break;
                case "sort": Assert.Equal(new string(argument.Order().ToArray()), example.Completion); break;
                case "add": Assert.Equal(argument.Split('+').Sum(int.Parse).ToString(System.Globalization.CultureInfo.InvariantCulture), example.Completion); break;
            }
        }
    }

    [Fact]
    public void Tokenized_examples_mark_where_the_completion_starts()
    {
        var example = TokenizedExample.From(new TextExample("ab=", "c"), 64);
        Assert.Equal([ByteTokenizer.Bos, 'a', 'b', '=', 'c', ByteTokenizer.Eos], example.Tokens);
        Assert.Equal(4, example.PromptLength);
        Assert.Equal(2, example.TargetCount);
    }

    [Fact]
    public void JSONL_errors_name_the_file_and_line()
    {
        var path = Path.GetTempFileName();
        File.WriteAllLines(path, ["""{"prompt":"a","completion":"b"}""", "", """{"prompt":"a"}""", "{oops"]);
        var error = Assert.Throws<DataFormatException>(() => JsonlExamples.Load(path));
        Assert.Equal($"{path} line 3: missing field \"completion\"", error.Message);
        File.WriteAllLines(path, ["""{"prompt":"a","completion":3}"""]);
        Assert.Contains("line 1: field \"completion\" must be a string", Assert.Throws<DataFormatException>(() => JsonlExamples.Load(path)).Message);
        File.WriteAllLines(path, ["{oops"]);
        Assert.Contains("line 1: not valid JSON", Assert.Throws<DataFormatException>(() => JsonlExamples.Load(path)).Message);
        File.Delete(path);
    }

    [Fact]
    public void Examples_written_as_JSONL_read_back_the_same()
    {
        var path = Path.GetTempFileName();
        var examples = SyntheticSkills.Generate(20, 3, DataSplit.Train);
        JsonlExamples.Write(path, examples);
        Assert.Equal(examples, JsonlExamples.Load(path));
        File.Delete(path);
    }

    [Fact]
    public void Dataset_references_resolve_and_bad_ones_are_named()
    {
        Assert.Equal(17, DatasetSource.Load("builtin:synthetic?split=test&count=17&seed=4").Count);
        Assert.Equal(SyntheticSkills.Generate(5, 2, DataSplit.Train), DatasetSource.Load(DatasetSource.Synthetic(DataSplit.Train, 5, 2)));
        Assert.Contains("count=zero", Assert.Throws<DataFormatException>(() => DatasetSource.Load("builtin:synthetic?count=zero")).Message);
        Assert.Contains("no such file or folder", Assert.Throws<DataFormatException>(() => DatasetSource.Load("/nonexistent/data.jsonl")).Message);
    }

    [Fact]
    public void IID_partitioning_covers_every_example_once()
    {
        var items = Enumerable.Range(0, 103).ToList();
        var shards = DataPartitioning.Iid(items, 4, 9);
        Assert.Equal(4, shards.Count);
        Assert.Equal(items, shards.SelectMany(s => s).Order());
        Assert.InRange(shards.Min(s => s.Count), 25, 26);
    }

    private static string Key(TextExample e) => e.Prompt + "|" + e.Completion;
}
