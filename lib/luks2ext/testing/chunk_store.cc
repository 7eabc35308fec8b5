#include "testing/chunk_store.h"

#include <algorithm>
#include <cstring>

namespace luks2ext {

ChunkStore::Chunk& ChunkStore::Mutable(uint64_t index) {
  std::shared_ptr<Chunk>& slot = chunks_[index];
  // use_count() is exact: a store and its copies live on one thread.
  if (!slot) {
    slot = std::make_shared<Chunk>(kChunkSize);
  } else if (slot.use_count() > 1) {
    slot = std::make_shared<Chunk>(*slot);
  }
  return *slot;
}

void ChunkStore::Store(uint64_t offset, std::span<const std::uint8_t> data) {
  while (!data.empty()) {
    const uint64_t in_chunk = offset % kChunkSize;
    const uint64_t n = std::min<uint64_t>(data.size(), kChunkSize - in_chunk);
    std::memcpy(Mutable(offset / kChunkSize).data() + in_chunk, data.data(), n);
    offset += n;
    data = data.subspan(n);
  }
}

void ChunkStore::Load(uint64_t offset, std::span<std::uint8_t> out) const {
  while (!out.empty()) {
    const uint64_t in_chunk = offset % kChunkSize;
    const uint64_t n = std::min<uint64_t>(out.size(), kChunkSize - in_chunk);
    auto it = chunks_.find(offset / kChunkSize);
    if (it == chunks_.end()) {
      std::memset(out.data(), 0, n);
    } else {
      std::memcpy(out.data(), it->second->data() + in_chunk, n);
    }
    offset += n;
    out = out.subspan(n);
  }
}

void ChunkStore::Drop(uint64_t offset, uint64_t length) {
  const uint64_t end = offset + length;
  auto it = chunks_.lower_bound(offset / kChunkSize);
  while (it != chunks_.end() && it->first * kChunkSize < end) {
    const uint64_t chunk_start = it->first * kChunkSize;
    const uint64_t from = std::max(offset, chunk_start);
    const uint64_t to = std::min(end, chunk_start + kChunkSize);
    if (from == chunk_start && to == chunk_start + kChunkSize) {
      it = chunks_.erase(it);
    } else {
      std::memset(Mutable(it->first).data() + (from - chunk_start), 0, to - from);
      ++it;
    }
  }
}

}  // namespace luks2ext
