#include "diffeo/flows/nsf.h"

#include "diffeo/core/error.h"
#include "diffeo/flows/maf.h"
#include "diffeo/flows/realnvp.h"

namespace diffeo::flows {

// The same stacks as Real NVP and MAF with the spline as inner transform.
Bijector nsf_bijector(const FlowOptions& options) {
  check_options(options, "NSF");
  auto spline = FlowOptions(options).transform("spline");
  if (spline.layers() == 0) spline.layers(4);
  if (options.variant() == "autoregressive") return maf_bijector(spline);
  if (options.dim() < 2)
    throw Error(
        "NSF: argument 'dim' must be >= 2 for the coupling variant, got 1; "
        "use variant 'autoregressive'");
  return realnvp_bijector(spline);
}

Flow NSF(const FlowOptions& options) { return build("nsf", options); }

}  // namespace diffeo::flows
