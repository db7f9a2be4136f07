#pragma once
// The whole public API of diffeo in one include.

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/positive.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/core/version.h"

#include "diffeo/bijectors/affine.h"
#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/domain_guard.h"
#include "diffeo/bijectors/elementwise.h"
#include "diffeo/bijectors/inverse.h"
#include "diffeo/bijectors/permutation.h"
#include "diffeo/bijectors/rotation.h"
#include "diffeo/bijectors/soft_clip.h"

#include "diffeo/distributions/distribution.h"
#include "diffeo/distributions/normal.h"
#include "diffeo/distributions/transformed.h"
#include "diffeo/distributions/uniform.h"
