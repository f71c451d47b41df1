namespace Federated.Core.Tests.Checkpoints;

/// <summary>
/// An independent reference for llama2.c checkpoints: plain loops over the .bin file mirroring run.c's forward
/// pass one token at a time (RMS norm, RoPE on interleaved pairs, grouped-query attention over a KV cache,
/// SwiGLU, classifier). It shares no code with the model or the loaders under test.
/// </summary>
internal sealed class Llama2cReference
{
    private readonly int _dim, _hidden, _layers, _heads, _kvHeads, _vocab, _seqLen, _headSize, _kvDim;
    private readonly float[] _embedding, _rmsAtt, _wq, _wk, _wv, _wo, _rmsFfn, _w1, _w2, _w3, _rmsFinal, _classifier;
    private readonly float[] _keyCache, _valueCache;

    public Llama2cReference(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        _dim = reader.ReadInt32();
        _hidden = reader.ReadInt32();
        _layers = reader.ReadInt32();
        _heads = reader.ReadInt32();
        _kvHeads = reader.ReadInt32();
        var vocab = reader.ReadInt32();
        _seqLen = reader.ReadInt32();
        _vocab = Math.Abs(vocab);
        _headSize = _dim / _heads;
        _kvDim = _dim * _kvHeads / _heads;
        float[] Read(long count)
        {
            var values = new float[count];
            for (long i = 0; i < count; i++)
                values[i] = reader.ReadSingle();
            return values;
        }
        _embedding = Read((long)_vocab * _dim);
        _rmsAtt = Read((long)_layers * _dim);
        _wq = Read((long)_layers * _dim * _dim);
        _wk = Read((long)_layers * _dim * _kvDim);
        _wv = Read((long)_layers * _dim * _kvDim);
        _wo = Read((long)_layers * _dim * _dim);
        _rmsFfn = Read((long)_layers * _dim);
        _w1 = Read((long)_layers * _dim * _hidden);
        _w2 = Read((long)_layers * _hidden * _dim);
        _w3 = Read((long)_layers * _dim * _hidden);
        _rmsFinal = Read(_dim);
        Read((long)_seqLen * _headSize); // freq_cis_real and freq_cis_imag, unused
        _classifier = vocab > 0 ? _embedding : Read((long)_vocab * _dim);
        _keyCache = new float[(long)_layers * _seqLen * _kvDim];
        _valueCache = new float[(long)_layers * _seqLen * _kvDim];
    }

    public int VocabSize => _vocab;

    /// <summary>Greedy decoding as run.c does at temperature 0, stopping after EOS (id 2) like our generator.</summary>
    public List<int> Greedy(int bos, int steps)
    {
        var generated = new List<int>();
        int token = bos;
        for (int pos = 0; pos < steps && pos + 1 < _seqLen; pos++)
        {
            var logits = Forward(token, pos);
            int next = 0;
            for (int i = 1; i < logits.Length; i++)
            {
                if (logits[i] > logits[next])
                    next = i;
            }
            generated.Add(next);
            if (next == 2)
                break;
            token = next;
        }
        return generated;
    }

    /// <summary>Logits for <paramref name="token"/> at <paramref name="pos"/>; positions must come in order from 0.</summary>
    public float[] Forward(int token, int pos)
    {
        var x = new float[_dim];
        Array.Copy(_embedding, (long)token * _dim, x, 0, _dim);
        var xb = new float[_dim];
        var q = new float[_dim];
        var hb = new float[_hidden];
        var hb2 = new float[_hidden];
        int kvMul = _heads / _kvHeads;
        for (int l = 0; l < _layers; l++)
        {
            RmsNorm(xb, x, _rmsAtt, l * _dim);
            long cache = ((long)l * _seqLen + pos) * _kvDim;
            var k = new float[_kvDim];
            var v = new float[_kvDim];
            MatMul(q, xb, _wq, (long)l * _dim * _dim, _dim, _dim);
            MatMul(k, xb, _wk, (long)l * _dim * _kvDim, _dim, _kvDim);
            MatMul(v, xb, _wv, (long)l * _dim * _kvDim, _dim, _kvDim);
            for (int i = 0; i < _dim; i += 2)
            {
                int headDim = i % _headSize;
                float frequency = 1.0f / MathF.Pow(10000.0f, headDim / (float)_headSize);
                float angle = pos * frequency, cos = MathF.Cos(angle), sin = MathF.Sin(angle);
                Rotate(q, i, cos, sin);
                if (i < _kvDim)
                    Rotate(k, i, cos, sin);
            }
            Array.Copy(k, 0, _keyCache, cache, _kvDim);
            Array.Copy(v, 0, _valueCache, cache, _kvDim);

            for (int h = 0; h < _heads; h++)
            {
                var scores = new float[pos + 1];
                int kvOffset = h / kvMul * _headSize;
                for (int t = 0; t <= pos; t++)
                {
                    long key = ((long)l * _seqLen + t) * _kvDim + kvOffset;
                    float score = 0;
                    for (int i = 0; i < _headSize; i++)
                        score += q[h * _headSize + i] * _keyCache[key + i];
                    scores[t] = score / MathF.Sqrt(_headSize);
                }
                Softmax(scores);
                for (int i = 0; i < _headSize; i++)
                    xb[h * _headSize + i] = 0;
                for (int t = 0; t <= pos; t++)
                {
                    long value = ((long)l * _seqLen + t) * _kvDim + kvOffset;
                    for (int i = 0; i < _headSize; i++)
                        xb[h * _headSize + i] += scores[t] * _valueCache[value + i];
                }
            }
            var attended = new float[_dim];
            MatMul(attended, xb, _wo, (long)l * _dim * _dim, _dim, _dim);
            for (int i = 0; i < _dim; i++)
                x[i] += attended[i];

            RmsNorm(xb, x, _rmsFfn, l * _dim);
            MatMul(hb, xb, _w1, (long)l * _dim * _hidden, _dim, _hidden);
            MatMul(hb2, xb, _w3, (long)l * _dim * _hidden, _dim, _hidden);
            for (int i = 0; i < _hidden; i++)
                hb[i] = hb[i] * (1.0f / (1.0f + MathF.Exp(-hb[i]))) * hb2[i];
            var down = new float[_dim];
            MatMul(down, hb, _w2, (long)l * _hidden * _dim, _hidden, _dim);
            for (int i = 0; i < _dim; i++)
                x[i] += down[i];
        }
        RmsNorm(x, x, _rmsFinal, 0);
        var logits = new float[_vocab];
        MatMul(logits, x, _classifier, 0, _dim, _vocab);
        return logits;
    }

    private static void Rotate(float[] vector, int i, float cos, float sin)
    {
        float v0 = vector[i], v1 = vector[i + 1];
        vector[i] = v0 * cos - v1 * sin;
        vector[i + 1] = v0 * sin + v1 * cos;
    }

    private static void RmsNorm(float[] output, float[] x, float[] weights, long offset)
    {
        float ss = 0;
        foreach (var value in x)
            ss += value * value;
        ss = 1.0f / MathF.Sqrt(ss / x.Length + 1e-5f);
        for (int i = 0; i < x.Length; i++)
            output[i] = weights[offset + i] * (ss * x[i]);
    }

    private static void Softmax(float[] x)
    {
        var max = x.Max();
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.Length; i++)
            x[i] /= sum;
    }

    /// <summary>output (d) = W (d × n, row-major at <paramref name="offset"/>) · x (n).</summary>
    private static void MatMul(float[] output, float[] x, float[] w, long offset, int n, int d)
    {
        for (int i = 0; i < d; i++)
        {
            float sum = 0;
            for (int j = 0; j < n; j++)
                sum += w[offset + (long)i * n + j] * x[j];
            output[i] = sum;
        }
    }
}
