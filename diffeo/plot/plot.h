#pragma once
// The whole public API of diffeo::plot (library target diffeo::plot) in one include.

#include "diffeo/plot/animation.h"
#include "diffeo/plot/figure.h"
#include "diffeo/plot/grid.h"
#include "diffeo/plot/image_grid.h"
#include "diffeo/plot/palette.h"
