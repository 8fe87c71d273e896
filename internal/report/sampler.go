package report

// MaxChartPoints bounds the points of a scenario in the recovery-vs-delay
// chart; beyond it every k-th trial is shown (k a power of two).
const MaxChartPoints = 4096

// sampler keeps every stride-th point, doubling the stride whenever it
// holds MaxChartPoints, so that its memory is bounded and its points
// spread over the whole log.
type sampler struct {
	pts          []point
	stride, seen int
}

func (s *sampler) add(p point) {
	if s.seen%s.stride == 0 {
		s.pts = append(s.pts, p)
		if len(s.pts) == MaxChartPoints {
			for i := range len(s.pts) / 2 {
				s.pts[i] = s.pts[2*i]
			}
			s.pts = s.pts[:len(s.pts)/2]
			s.stride *= 2
		}
	}
	s.seen++
}
