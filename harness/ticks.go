package harness

import (
	"sync"
	"time"
)

// goTicks is the portable tick source: a time.Ticker.
type goTicks struct {
	t    *time.Ticker
	quit chan struct{}
	once sync.Once
}

func newGoTicks(d time.Duration) *goTicks {
	return &goTicks{t: time.NewTicker(d), quit: make(chan struct{})}
}

func (g *goTicks) wait() bool {
	select {
	case <-g.quit:
		g.t.Stop()
		return false
	default:
	}
	select {
	case <-g.t.C:
		return true
	case <-g.quit:
		g.t.Stop()
		return false
	}
}

func (g *goTicks) stop() { g.once.Do(func() { close(g.quit) }) }
