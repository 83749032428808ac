package compress

import "sync"

// rowsRunner takes rows [lo, hi) of x through a whole model.
type rowsRunner interface {
	rows(x []float32, lo, hi int)
}

// pool is threads-1 goroutines, started once, that with the caller's own
// split a batch's rows: started once, so that a Run allocates nothing.
type pool struct {
	threads int
	jobs    chan poolJob
	wg      sync.WaitGroup
	stop    sync.Once
}

type poolJob struct {
	r      rowsRunner
	x      []float32
	lo, hi int
}

func newPool(threads int) *pool {
	p := &pool{threads: max(threads, 1)}
	if p.threads > 1 {
		p.jobs = make(chan poolJob)
		for range p.threads - 1 {
			go p.work()
		}
	}
	return p
}

func (p *pool) work() {
	for j := range p.jobs {
		j.r.rows(j.x, j.lo, j.hi)
		p.wg.Done()
	}
}

// run has r take rows [0, n) of x, in even chunks (the kernels work on
// row pairs or quads), one a goroutine, the caller's own the first.
func (p *pool) run(r rowsRunner, x []float32, n, align int) {
	t := min(p.threads, (n+align-1)/align)
	chunk := (n + t - 1) / t
	chunk = (chunk + align - 1) / align * align
	for lo := chunk; lo < n; lo += chunk {
		p.wg.Add(1)
		p.jobs <- poolJob{r, x, lo, min(lo+chunk, n)}
	}
	r.rows(x, 0, min(chunk, n))
	p.wg.Wait()
}

// close stops the goroutines; the pool must not be run after.
func (p *pool) close() {
	p.stop.Do(func() {
		if p.jobs != nil {
			close(p.jobs)
		}
	})
}
