#include <gtest/gtest.h>
#include "diffeo/diffeo.h"
