// fmt's compiled part, built into the program instead of taken from libfmt.so: that library
// pulls the shared libstdc++ into every start (its 1,666 symbol bindings were most of what a
// zcryptsetup start cost beyond stock cryptsetup's under emulation; see the
// ZCRYPTSETUP_STATIC_LIBSTDCXX option). fmt's own header carries the definitions; this file
// only compiles them once and instantiates the templates its headers declare `extern`.
#include <fmt/format-inl.h>

namespace fmt {
FMT_BEGIN_DETAIL_NAMESPACE
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto decimal_point_impl<char>(locale_ref) -> char;
namespace dragonbox {
template auto to_decimal<float>(float x) noexcept -> decimal_fp<float>;
template auto to_decimal<double>(double x) noexcept -> decimal_fp<double>;
}  // namespace dragonbox
FMT_END_DETAIL_NAMESPACE
}  // namespace fmt
