#nullable enable
#pragma warning disable IDE0161 // block namespace: this file is also compiled by MSBuild's inline task factory
// Marks one symbol-version need of an ELF shared library as weak (VER_FLG_WEAK), so that the dynamic
// loader accepts the library on a system whose C++ runtime lacks that version.
//
// Why: libLibTorchSharp.so (TorchSharp 0.107) was linked with GCC 13 and so needs GLIBCXX_3.4.32 for a
// single symbol, std::ios_base_library_init, which GCC 13 references but nothing ever calls. Debian 12's
// libstdc++ stops at GLIBCXX_3.4.30 and refuses to load the library. A weak need is only checked when
// present; the symbol stays unresolved and, being unused (it has no relocation), is never looked up.
//
// This file is compiled twice: into the MSBuild inline task in TorchSharpNativeFix.targets (which runs
// after every build of a project that copies the TorchSharp natives), and into the unit tests with
// ELF_PATCH_LOGIC_ONLY defined. It targets netstandard2.0 and the compiler that MSBuild's
// RoslynCodeTaskFactory uses, so it keeps to plain C#.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace Federated.Build
{
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, ushort index, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Index = index;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        public string File { get; }
        public string Version { get; }
        public ushort Index { get; }
        public ushort Flags { get; }
        public long FlagsOffset { get; }
        public bool IsWeak { get { return (Flags & ElfVersionNeedPatch.VerFlagWeak) != 0; } }
    }

    public static class ElfVersionNeedPatch
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        /// <summary>The version needs (.gnu.version_r) of a 64-bit little-endian ELF image.</summary>
        public static List<ElfVersionNeed> ReadVersionNeeds(byte[] elf)
        {
            var result = new List<ElfVersionNeed>();
            foreach (var section in Sections(elf).Where(s => s.Type == ShtGnuVerneed))
            {
                var strings = Sections(elf)[(int)section.Link];
                long entry = section.Offset;
                for (int i = 0; i < section.Info; i++)
                {
                    ushort count = U16(elf, entry + 2);
                    string file = CString(elf, strings.Offset + U32(elf, entry + 4));
                    long aux = entry + U32(elf, entry + 8);
                    for (int j = 0; j < count; j++)
                    {
                        ushort flags = U16(elf, aux + 4);
                        ushort index = U16(elf, aux + 6);
                        string name = CString(elf, strings.Offset + U32(elf, aux + 8));
                        result.Add(new ElfVersionNeed(file, name, index, flags, aux + 4));
                        uint nextAux = U32(elf, aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = U32(elf, entry + 12);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return result;
        }

        /// <summary>The version names a library defines (.gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static HashSet<string> ReadVersionDefinitions(byte[] elf)
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var section in Sections(elf).Where(s => s.Type == ShtGnuVerdef))
            {
                var strings = Sections(elf)[(int)section.Link];
                long entry = section.Offset;
                for (int i = 0; i < section.Info; i++)
                {
                    long aux = entry + U32(elf, entry + 12);
                    result.Add(CString(elf, strings.Offset + U32(elf, aux)));
                    uint next = U32(elf, entry + 16);
                    if (next == 0) break;
                    entry += next;
                }
            }
            return result;
        }

        /// <summary>Names of the dynamic symbols bound to a version index (from .gnu.version).</summary>
        public static List<string> SymbolsBoundTo(byte[] elf, ushort versionIndex)
        {
            var sections = Sections(elf);
            var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
            var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            var result = new List<string>();
            if (dynsym == null || versym == null) return result;
            var strings = sections[(int)dynsym.Link];
            long count = dynsym.Size / 24;
            for (long i = 0; i < count; i++)
            {
                ushort index = (ushort)(U16(elf, versym.Offset + 2 * i) & 0x7fff);
                if (index != versionIndex) continue;
                result.Add(CString(elf, strings.Offset + U32(elf, dynsym.Offset + 24 * i)));
            }
            return result;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the need for <paramref name="version"/> of <paramref name="file"/>, if every
        /// symbol bound to it is in <paramref name="allowedSymbols"/>. Returns null when it patched (or the
        /// need was already weak or absent), else the reason it refused.
        /// </summary>
        public static string? TryMakeWeak(byte[] elf, string file, string version, ICollection<string> allowedSymbols, out bool changed)
        {
            changed = false;
            var need = ReadVersionNeeds(elf).FirstOrDefault(n => n.File == file && n.Version == version);
            if (need == null || need.IsWeak) return null;
            var symbols = SymbolsBoundTo(elf, need.Index);
            var unexpected = symbols.Where(s => !allowedSymbols.Contains(s)).ToList();
            if (unexpected.Count > 0)
            {
                return version + " is needed by symbols that may be called (" + string.Join(", ", unexpected) +
                    "), so it cannot be made weak safely";
            }
            ushort flags = (ushort)(need.Flags | VerFlagWeak);
            elf[need.FlagsOffset] = (byte)(flags & 0xff);
            elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
            changed = true;
            return null;
        }

        /// <summary>The first libstdc++.so.6 found in the usual system library folders, or null.</summary>
        public static string? FindSystemLibStdCxx()
        {
            string[] folders =
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
            };
            foreach (var folder in folders)
            {
                var path = Path.Combine(folder, "libstdc++.so.6");
                if (System.IO.File.Exists(path)) return path;
            }
            return null;
        }

        private sealed class Section
        {
            public uint Type;
            public long Offset;
            public long Size;
            public uint Link;
            public uint Info;
        }

        private static List<Section> Sections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            long tableOffset = (long)U64(elf, 0x28);
            int entrySize = U16(elf, 0x3A);
            int count = U16(elf, 0x3C);
            var sections = new List<Section>(count);
            for (int i = 0; i < count; i++)
            {
                long h = tableOffset + (long)i * entrySize;
                sections.Add(new Section
                {
                    Type = U32(elf, h + 4),
                    Offset = (long)U64(elf, h + 24),
                    Size = (long)U64(elf, h + 32),
                    Link = U32(elf, h + 40),
                    Info = U32(elf, h + 44),
                });
            }
            return sections;
        }

        private static ushort U16(byte[] b, long o) { return (ushort)(b[o] | (b[o + 1] << 8)); }

        private static uint U32(byte[] b, long o) { return (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)); }

        private static ulong U64(byte[] b, long o) { return U32(b, o) | ((ulong)U32(b, o + 4) << 32); }

        private static string CString(byte[] b, long o)
        {
            long end = o;
            while (end < b.Length && b[end] != 0) end++;
            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !ELF_PATCH_LOGIC_ONLY
    /// <summary>MSBuild task: applies the weak-need patch where the system libstdc++ lacks the version.</summary>
    public sealed class PatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string LibraryPath { get; set; } = "";

        public string NeededFile { get; set; } = "libstdc++.so.6";

        public string Version { get; set; } = "GLIBCXX_3.4.32";

        public string AllowedSymbols { get; set; } = "_ZSt21ios_base_library_initv";

        public override bool Execute()
        {
            if (!System.IO.File.Exists(LibraryPath)) return true;
            var elf = System.IO.File.ReadAllBytes(LibraryPath);
            var need = ElfVersionNeedPatch.ReadVersionNeeds(elf).FirstOrDefault(n => n.File == NeededFile && n.Version == Version);
            if (need == null || need.IsWeak) return true;

            var system = ElfVersionNeedPatch.FindSystemLibStdCxx();
            if (system == null) return true; // no glibc toolchain layout we know (musl, macOS): nothing to judge against
            if (ElfVersionNeedPatch.ReadVersionDefinitions(System.IO.File.ReadAllBytes(system)).Contains(Version)) return true;

            var allowed = new HashSet<string>(AllowedSymbols.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries));
            var refusal = ElfVersionNeedPatch.TryMakeWeak(elf, NeededFile, Version, allowed, out var changed);
            if (refusal != null)
            {
                Log.LogError("TorchSharp native fix: " + LibraryPath + " needs " + Version + " from " + NeededFile +
                    ", which " + system + " lacks, and " + refusal + ". Install a libstdc++ from GCC 13 or newer.");
                return false;
            }
            if (!changed) return true;

            // Write a new file rather than editing in place: the output may be a hard link into the NuGet cache.
            var temporary = LibraryPath + ".patching";
            System.IO.File.WriteAllBytes(temporary, elf);
            System.IO.File.Delete(LibraryPath);
            System.IO.File.Move(temporary, LibraryPath);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                "TorchSharp native fix: " + system + " lacks " + Version + ", so its need in " + Path.GetFullPath(LibraryPath) +
                " was marked weak (its only symbol, std::ios_base_library_init, is never called).");
            return true;
        }
    }
#endif
}
