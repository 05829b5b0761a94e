#include "plugin/plugin_library.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <fstream>
#include <type_traits>
#include <utility>

// clang-format off
#include <vector>  // must precede library_info.hpp, which is not self-contained in Boost 1.74
#include <boost/dll/library_info.hpp>
// clang-format on

namespace outboxd {
namespace {

// Reads a struct at `offset`; false when it would run past the end of `bytes`.
template <class T>
bool ReadAt(const std::string& bytes, uint64_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

// True when the dynamic symbol table of the 64-bit ELF object in `bytes` defines `symbol` as a
// global (or weak) function with default visibility: exactly what dlsym can find. Every offset is
// bounds-checked, since the file may be truncated or hostile.
bool DynamicSymbolTableExports(const std::string& bytes, const std::string& symbol) {
  Elf64_Ehdr header;
  if (!ReadAt(bytes, 0, &header) || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_shentsize != sizeof(Elf64_Shdr)) {
    return false;
  }
  for (uint64_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr section;
    if (!ReadAt(bytes, header.e_shoff + i * sizeof(Elf64_Shdr), &section)) return false;
    if (section.sh_type != SHT_DYNSYM) continue;
    Elf64_Shdr strings;
    if (section.sh_link >= header.e_shnum ||
        !ReadAt(bytes, header.e_shoff + uint64_t{section.sh_link} * sizeof(Elf64_Shdr), &strings) ||
        strings.sh_offset > bytes.size() || bytes.size() - strings.sh_offset < strings.sh_size) {
      return false;
    }
    const char* names = bytes.data() + strings.sh_offset;
    const uint64_t count = section.sh_size / sizeof(Elf64_Sym);
    for (uint64_t k = 0; k < count; ++k) {
      Elf64_Sym sym;
      if (!ReadAt(bytes, section.sh_offset + k * sizeof(Elf64_Sym), &sym)) return false;
      const unsigned bind = ELF64_ST_BIND(sym.st_info);
      if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK) ||
          ELF64_ST_VISIBILITY(sym.st_other) != STV_DEFAULT ||
          ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_name >= strings.sh_size) {
        continue;
      }
      const size_t max_len = strings.sh_size - sym.st_name;
      const char* name = names + sym.st_name;
      if (strnlen(name, max_len) == symbol.size() &&
          symbol.compare(0, symbol.size(), name, symbol.size()) == 0) {
        return true;
      }
    }
  }
  return false;
}

Status ReadWholeFile(const std::filesystem::path& file, std::string* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::IoError("cannot open " + file.string());
  out->clear();
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    out->append(buffer, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Status::IoError("cannot read " + file.string());
  return Status::OK();
}

}  // namespace

PluginLibrary::PluginLibrary(boost::dll::shared_library library) : library_(std::move(library)) {}

PluginLibrary::~PluginLibrary() = default;

Status PluginLibrary::CheckExports(const std::filesystem::path& file, const std::string& symbol) {
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(file);  // throws on garbage, truncated or foreign-format files
    symbols = info.symbols();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not an ELF shared object for this machine (") +
                                   e.what() + ")");
  } catch (...) {
    return Status::InvalidArgument("not an ELF shared object for this machine");
  }
  if (std::find(symbols.begin(), symbols.end(), symbol) != symbols.end()) return Status::OK();

  std::string bytes;  // stripped object (no .symtab): look where dlsym looks
  OBX_RETURN_IF_ERROR(ReadWholeFile(file, &bytes));
  if (DynamicSymbolTableExports(bytes, symbol)) return Status::OK();
  return Status::InvalidArgument("does not export " + symbol +
                                 " (not an outboxd plugin, or built for another ABI major)");
}

Status PluginLibrary::Open(const std::filesystem::path& file, std::unique_ptr<PluginLibrary>* out) {
  try {
    boost::dll::shared_library library(
        file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    out->reset(new PluginLibrary(std::move(library)));
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot be loaded: ") + e.what());
  } catch (...) {
    return Status::InvalidArgument("cannot be loaded");
  }
}

Status PluginLibrary::FindEntry(obx_plugin_entry_fn* out) const {
  using EntryType = std::remove_pointer_t<obx_plugin_entry_fn>;
  try {
    if (!library_.has(OBX_ENTRY_SYMBOL)) {
      return Status::InvalidArgument("does not export " OBX_ENTRY_SYMBOL);
    }
    *out = &library_.get<EntryType>(OBX_ENTRY_SYMBOL);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot resolve " OBX_ENTRY_SYMBOL ": ") + e.what());
  }
}

}  // namespace outboxd
