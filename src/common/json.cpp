// Boost.JSON is used header-only: this is the one translation unit that holds its
// implementation, for every part that links kalam_common.
#include <boost/json/src.hpp>
