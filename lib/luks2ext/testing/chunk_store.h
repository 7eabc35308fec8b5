// ChunkStore: the bytes of MemoryZonedDevice, sparse and copy-on-write.
//
// Bytes live in 64 KiB chunks allocated on first write; unwritten bytes read as zeros, so a
// large emulated drive costs memory only for what was written. Copies share chunks until one
// side changes one (then it gets its own): crash tests copy a drive at every power cut, and
// most of its chunks never change after the copy. Not thread-safe; nor are copies that share
// chunks safe to use from two threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace luks2ext {

class ChunkStore {
 public:
  static constexpr uint64_t kChunkSize = 64 * 1024;

  void Store(uint64_t offset, std::span<const std::uint8_t> data);
  // Zeros where nothing was stored.
  void Load(uint64_t offset, std::span<std::uint8_t> out) const;
  // Back to zeros (whole chunks are freed).
  void Drop(uint64_t offset, uint64_t length);
  uint64_t allocated_bytes() const { return chunks_.size() * kChunkSize; }

 private:
  using Chunk = std::vector<std::uint8_t>;
  // The chunk at `index`, this store's own: allocated zeroed if absent, copied if a copy of
  // this store shares it.
  Chunk& Mutable(uint64_t index);

  std::map<uint64_t, std::shared_ptr<Chunk>> chunks_;  // chunk index -> kChunkSize bytes
};

}  // namespace luks2ext
