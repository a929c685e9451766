// JSON values compared as the fuzz targets need: Boost.JSON 1.81 reads a double within a
// few units in the last place, not exactly (1.7488465674311578e308 reads back as ...77e308,
// and that as ...75e308), so a number with a fraction or exponent written and read again
// is near, not equal.
#pragma once

#include <boost/json.hpp>
#include <cmath>
#include <cstddef>
#include <string_view>

namespace kalam::fuzz {

// Equal JSON values, doubles within a relative 1e-14.
inline bool Near(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-14 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const boost::json::array &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!Near(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const boost::json::object &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
      if (i->key() != j->key() || !Near(i->value(), j->value())) return false;
    }
    return true;
  }
  return a == b;
}

// The same for JSON texts. REQUIRES: both are JSON.
inline bool NearText(std::string_view a, std::string_view b) {
  return Near(boost::json::parse(a), boost::json::parse(b));
}

}  // namespace kalam::fuzz
