// Used only when Boost's headers are not installed (see ../../scoped_array.hpp): boost::numeric_cast, a
// conversion that throws (a std::bad_cast, as Boost's bad_numeric_cast is) when the value does not fit.
#ifndef THRIFTBOX_SHIM_NUMERIC_CAST_HPP
#define THRIFTBOX_SHIM_NUMERIC_CAST_HPP
#include <typeinfo>
#include <utility>

namespace boost {
namespace numeric {
class bad_numeric_cast : public std::bad_cast {
 public:
  const char* what() const noexcept override { return "bad numeric conversion: overflow"; }
};
}  // namespace numeric

template <class Target, class Source> Target numeric_cast(Source arg) {
  if (!std::in_range<Target>(arg)) {
    throw numeric::bad_numeric_cast();
  }
  return static_cast<Target>(arg);
}
}  // namespace boost
#endif
