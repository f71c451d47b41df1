#!/usr/bin/env bash
# Fuzzes the parsers of untrusted bytes with AFL++ through SharpFuzz: tests/fuzz/run.sh <target|all> <seconds>.
# Installs afl++ (apt) and SharpFuzz.CommandLine (a local dotnet tool) where missing, builds the harness,
# instruments Federated.Core.dll and runs afl-fuzz for <seconds> per target, one at a time on one core.
# Findings land under $FUZZ_OUT (default /tmp/federated-fuzz/<target>/default/{crashes,hangs}); replay one with
#   dotnet $FUZZ_OUT/bin/Federated.Fuzz.dll <target> --replay <file>
set -euo pipefail
target=${1:?usage: run.sh <target|all> <seconds>}
seconds=${2:?usage: run.sh <target|all> <seconds>}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-/tmp/federated-fuzz}
tools=$out/tools
bin=$out/bin
mkdir -p "$out"

if ! command -v afl-fuzz >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++
fi
if [ ! -x "$tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"
fi

# Its own output folder: the build hard-links copy-local files, and instrumenting a hard link would alter
# Federated.Core's own build output; the copy below breaks the link before sharpfuzz rewrites the file.
dotnet build "$root/tests/Federated.Fuzz" -c Release -o "$bin" -p:UseAppHost=false >"$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 1; }
cp "$bin/Federated.Core.dll" "$bin/Federated.Core.dll.new" && mv -f "$bin/Federated.Core.dll.new" "$bin/Federated.Core.dll"
"$tools/sharpfuzz" "$bin/Federated.Core.dll" >/dev/null

targets=$target
[ "$target" = all ] && targets=$(dotnet "$bin/Federated.Fuzz.dll" --list)
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
for t in $targets; do
    seeds=$root/tests/Federated.Fuzz/corpus/$t
    [ -d "$seeds" ] || { echo "no corpus for target '$t'" >&2; exit 2; }
    rm -rf "${out:?}/$t"
    # -t: the first execution starts the .NET runtime; -m none: the CLR reserves far more than afl's default limit.
    afl-fuzz -i "$seeds" -o "$out/$t" -V "$seconds" -t 5000 -m none -- dotnet "$bin/Federated.Fuzz.dll" "$t" >"$out/$t.log" 2>&1 || { tail -30 "$out/$t.log"; exit 1; }
    stats=$out/$t/default/fuzzer_stats
    printf '%s: %s s, %s execs (%s/s), %s paths, %s crashes, %s hangs; findings in %s\n' "$t" \
        "$(awk '/^run_time/{print $3}' "$stats")" "$(awk '/^execs_done/{print $3}' "$stats")" \
        "$(awk '/^execs_per_sec/{print $3}' "$stats")" "$(awk '/^corpus_count/{print $3}' "$stats")" \
        "$(awk '/^saved_crashes/{print $3}' "$stats")" "$(awk '/^saved_hangs/{print $3}' "$stats")" "$out/$t/default"
done
