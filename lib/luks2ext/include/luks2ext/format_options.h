// What luksFormat is asked to build: cryptsetup's options, plus where the metadata goes.
#pragma once

#include <cstdint>
#include <string>

#include "luks2ext/layout.h"

namespace luks2ext {

struct PbkdfOptions {
  std::string type;             // "argon2id", "argon2i", "pbkdf2"; "" = libcryptsetup's default
  std::string hash = "sha256";  // for pbkdf2 and the LUKS2 digest
  uint32_t iter_time_ms = 0;    // --iter-time; 0 = default (2000 ms)
  uint32_t memory_kb = 0;       // --pbkdf-memory; 0 = default
  uint32_t parallel = 0;        // --pbkdf-parallel; 0 = default
  uint32_t iterations = 0;      // --pbkdf-force-iterations; 0 = benchmark
};

struct FormatOptions {
  LayoutRequest layout;
  std::string cipher = "aes-xts-plain64";  // cipher-mode, as cryptsetup's --cipher
  uint32_t key_bits = 512;                 // --key-size
  PbkdfOptions pbkdf;
  uint32_t sector_size = 0;  // --sector-size; 0 = the drive's block size, at most 4096
  std::string label;         // --label
  std::string subsystem;     // --subsystem
  std::string uuid;          // --uuid; "" = random
  int keyslot = -1;          // --key-slot; -1 = first free
  bool force_inline = false; // --perf-force_inline: persist inline processing in the header
};

}  // namespace luks2ext
