#include "luks2/keyslot_order.h"

#include <json-c/json.h>

#include <algorithm>
#include <string>

#include "base/i18n.h"
#include "luks2/json.h"

namespace luks2ext {
namespace {

struct Candidate {
  KeyslotArea area;
  int priority = 1;
  bool unlocks = true;  // a "luks2" keyslot (others, e.g. reencrypt, hold no passphrase)
};

Candidate Describe(json_object* keyslots, const KeyslotArea& area) {
  Candidate candidate{area};
  json_object* keyslot = JsonMember(keyslots, std::to_string(area.keyslot).c_str());
  if (json_object* priority = JsonMember(keyslot, "priority"))
    candidate.priority = json_object_get_int(priority);
  json_object* type = JsonMember(keyslot, "type");
  candidate.unlocks = type && std::string(json_object_get_string(type)) == "luks2";
  return candidate;
}

}  // namespace

Result<std::vector<KeyslotArea>> KeyslotTryOrder(const Luks2Image& headers, int requested) {
  json_object* keyslots = JsonMember(headers.json(), "keyslots");
  std::vector<Candidate> candidates;
  for (const KeyslotArea& area : headers.keyslot_areas())
    candidates.push_back(Describe(keyslots, area));

  if (requested >= 0) {
    for (const Candidate& c : candidates)
      if (c.area.keyslot == requested) return std::vector<KeyslotArea>{c.area};
    return Error::WrongParameters(FormatMsg(_("Keyslot {} is not active."), requested));
  }
  // Higher priority first, then by number. Each candidate goes in after every one that sorts
  // before or with it: a handful of keyslots (at most 32), where std::stable_sort's merge
  // machinery would be code each open runs once, and translates anew under emulation.
  auto before = [](const Candidate& a, const Candidate& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.area.keyslot < b.area.keyslot;
  };
  std::vector<Candidate> sorted;
  sorted.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    if (!c.unlocks || c.priority <= 0) continue;
    sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), c, before), c);
  }
  std::vector<KeyslotArea> order;
  order.reserve(sorted.size());
  for (const Candidate& c : sorted) order.push_back(c.area);
  return order;
}

}  // namespace luks2ext
