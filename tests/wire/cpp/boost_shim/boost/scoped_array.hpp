// Used only when Boost's headers are not installed (Debian's libthrift-dev includes them without depending on
// libboost-dev): the part of boost::scoped_array that libthrift's headers use. Same layout as Boost's (one
// pointer), so the classes that hold one match the compiled library.
#ifndef THRIFTBOX_SHIM_SCOPED_ARRAY_HPP
#define THRIFTBOX_SHIM_SCOPED_ARRAY_HPP
#include <cstddef>

namespace boost {
template <class T> class scoped_array {
  T* px;

 public:
  explicit scoped_array(T* p = nullptr) : px(p) {}
  ~scoped_array() { delete[] px; }
  scoped_array(const scoped_array&) = delete;
  scoped_array& operator=(const scoped_array&) = delete;
  void reset(T* p = nullptr) {
    T* old = px;
    px = p;
    delete[] old;
  }
  T& operator[](std::ptrdiff_t i) const { return px[i]; }
  T* get() const { return px; }
  void swap(scoped_array& b) {
    T* tmp = b.px;
    b.px = px;
    px = tmp;
  }
  explicit operator bool() const { return px != nullptr; }
};
}  // namespace boost
#endif
