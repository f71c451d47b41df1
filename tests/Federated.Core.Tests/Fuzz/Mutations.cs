namespace Federated.Core.Tests.Fuzz;

/// <summary>AFL-like mutations from a seeded random source: bit flips, byte sets, interesting numbers, truncation, splices, repeats.</summary>
internal static class Mutations
{
    private static readonly byte[][] Tokens =
        [.. new[] { "\"", "{", "}", "[", "]", ",", ":", "null", "-1", "1e300", "4294967296", "\\ud800", "\"\"", "[\"x\"]", "base_model.model.", ".lora_A.weight" }.Select(System.Text.Encoding.UTF8.GetBytes)];

    public static byte[] Mutate(Random random, byte[] input, byte[] other)
    {
        var bytes = new List<byte>(input);
        var steps = 1 + random.Next(4);
        for (int s = 0; s < steps; s++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    var from = other.Length == 0 ? 0 : random.Next(other.Length);
                    bytes.InsertRange(at, other.Skip(from).Take(random.Next(1, 64)));
                    break;
                case 4:
                    bytes.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 5 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 16)));
                    break;
                default:
                    bytes.InsertRange(at, bytes.Skip(at).Take(random.Next(1, 16)).ToList());
                    break;
            }
        }
        return [.. bytes];
    }
}
