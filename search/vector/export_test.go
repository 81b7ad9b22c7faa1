package vector

// DisableStartBound makes x's unfiltered searches scan without the bound
// of startBound, as a reference for the searches with it.
func DisableStartBound(x *Index) { x.noStartBound = true }
