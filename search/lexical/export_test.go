package lexical

// SetBulk makes x's searches take the bulk scorer always (mode 1), never
// (−1) or by the density of their postings (0), with windows of window
// ids (0: the default).
func SetBulk(x *Index, mode, window int) { x.bulk, x.window = mode, window }
