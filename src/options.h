// Every command-line option, declared once: its value here, its name, help and parser in
// options.cc's table (popt, as cryptsetup), and which actions accept it in actions.cc (cryptsetup's model: "Option --x is not allowed with y action").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "luks2ext/error.h"

namespace zcryptsetup {

using luks2ext::Result;

struct Options {
  // Common
  bool batch_mode = false;
  bool verbose = false;
  bool debug = false;
  std::string key_file;
  uint64_t keyfile_offset = 0;
  uint64_t keyfile_size = 0;
  int key_slot = -1;
  int tries = 3;
  uint32_t timeout = 0;  // seconds a terminal prompt waits for the passphrase; 0: for ever
  // The new passphrase's key file (luksAddKey, luksChangeKey; also the positional argument)
  std::string new_keyfile;
  uint64_t new_keyfile_offset = 0;
  uint64_t new_keyfile_size = 0;
  int new_key_slot = -1;  // luksAddKey: the new keyslot's number
  std::string type;

  // luksFormat
  std::string cipher = "aes-xts-plain64";
  uint32_t key_size = 512;
  std::string hash = "sha256";
  std::string pbkdf;
  uint32_t iter_time = 0;
  uint32_t pbkdf_memory = 0;
  uint32_t pbkdf_parallel = 0;
  uint32_t pbkdf_force_iterations = 0;
  uint32_t sector_size = 0;
  std::string label;
  std::string subsystem;
  std::string uuid;
  std::optional<uint64_t> offset;  // 512-byte sectors, as cryptsetup
  std::string luks2_metadata_size;
  std::string luks2_keyslots_size;
  bool no_zone_journal = false;
  bool verify_passphrase = false;
  bool dry_run = false;

  // open
  std::string perf_force_inline;  // "" unset; "flags" or "native"
  // dm-crypt's performance flags one by one (open, refresh), cryptsetup's --perf-* names.
  bool perf_same_cpu_crypt = false;
  bool perf_submit_from_crypt_cpus = false;
  bool perf_no_read_workqueue = false;
  bool perf_no_write_workqueue = false;
  bool perf_high_priority = false;  // accepted to be refused clearly: no dm-crypt here has it
  bool persistent = false;
  bool disable_keyring = false;
  // resize: the new size, in 512-byte sectors (--size) or bytes (--device-size); 0: the device's
  uint64_t size = 0;
  uint64_t device_size = 0;  // the volume key goes into the dm table, not the keyring
  bool readonly = false;
  bool allow_discards = false;
  bool test_passphrase = false;
  // open: LUKS2 tokens (cryptsetup's names); token_id is also token's (below)
  int token_id = -1;  // -1: any token (open), the first free one (token import and add)
  std::string token_type;
  bool token_only = false;
  bool disable_external_tokens = false;

  // benchmark
  bool inline_bench = false;       // --inline
  bool json = false;               // --json
  uint32_t benchmark_seconds = 0;  // 0: the default (4)
  uint32_t rounds = 0;             // 0: the default (3)
  std::string benchmark_modes;     // "": auto
  bool given_cipher = false;       // benchmark measures one cipher when --cipher is given
  bool given_key_size = false;

  // luksDump
  bool dump_json_metadata = false;

  // crypttab
  bool all = false;
  std::string crypttab;
  uint64_t memory_budget = 0;  // bytes; 0 = half of the available memory

  // token (and token_id above)
  std::string json_file;  // "" or "-": standard input (import) or output (export)
  bool token_replace = false;
  std::string key_description;

  // luksHeaderBackup / luksHeaderRestore
  std::string header_backup_file;
  // --header: a detached LUKS2 header (a file or a device); "" when the header is on the
  // device argument
  std::string header;

  // config --priority: "" unset, else ignore|normal|prefer (checked by config)
  std::string priority;

  // config: an empty --label clears the label, so "given" is tracked apart from the value
  bool given_label = false;
  bool given_subsystem = false;

  std::vector<std::string> positional;  // action and its arguments
  // enroll: the tool's command line, everything after the first "--".
  std::vector<std::string> enroll_command;
};

struct ParsedCommandLine {
  Options options;
  std::string action;
  std::vector<std::string> args;
  std::vector<std::string> given;  // long names of the options given
  bool help_or_version = false;    // already printed; exit 0
};

// Parses into `parsed`, the caller's: Options is large, and a moved copy of it (into a Result
// and out again) was hundreds of instructions run once per process, which under emulation
// costs what it takes to translate them.
luks2ext::Status ParseCommandLine(int argc, char** argv, ParsedCommandLine& parsed);

// "16k", "4M", "16777216" -> bytes (cryptsetup's size suffixes for the LUKS2 metadata sizes).
luks2ext::Result<uint64_t> ParseSize(const std::string& text, const char* option);

}  // namespace zcryptsetup
