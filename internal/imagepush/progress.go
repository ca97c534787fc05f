package imagepush

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// ProgressInterval is how often a long push reports.
const ProgressInterval = 5 * time.Second

// pushProgress reports a push's layers every interval: bytes and rate per active layer and
// in total, a few lines per report whatever the number of chunks.
type pushProgress struct {
	ui      packersdk.Ui
	started time.Time

	mu     sync.Mutex
	layers []*layerProgress
	last   time.Time
	// Totals at the last report, for the rates.
	lastRead, lastSent int64

	stop chan struct{}
	done chan struct{}
}

// layerProgress is one layer's counters, updated by the compression and the upload.
type layerProgress struct {
	name        string
	total       int64 // uncompressed size, from the export
	read        atomic.Int64
	sent        atomic.Int64
	size        atomic.Int64 // compressed size, once known
	state       atomic.Value // string: waiting, reading, compressing, uploading, uploaded, already in the registry
	reportedEnd bool
	lastRead    int64
	lastSent    int64
}

func startProgress(ui packersdk.Ui, interval time.Duration) *pushProgress {
	p := &pushProgress{ui: ui, started: time.Now(), last: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.report()
			}
		}
	}()
	return p
}

// finish stops the reports.
func (p *pushProgress) finish() {
	close(p.stop)
	<-p.done
}

func (p *pushProgress) layer(name string, total int64) *layerProgress {
	l := &layerProgress{name: name, total: total}
	l.state.Store("waiting")
	p.mu.Lock()
	p.layers = append(p.layers, l)
	p.mu.Unlock()
	return l
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB/s", float64(n)/(1<<20)/d.Seconds())
}

// report says where each layer in progress is, and the totals.
func (p *pushProgress) report() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	since := now.Sub(p.last)
	var lines []string // the total first, then a line per layer in progress
	var read, sent int64
	for _, l := range p.layers {
		r, s, state := l.read.Load(), l.sent.Load(), l.state.Load().(string)
		read += r
		sent += s
		switch state {
		case "waiting":
			lines = append(lines, fmt.Sprintf("  %s: waiting, %s", l.name, mib(l.total)))
		case "reading":
			lines = append(lines, fmt.Sprintf("  %s: reading %s of %s (%s)", l.name, mib(r), mib(l.total), rate(r-l.lastRead, since)))
		case "compressing":
			lines = append(lines, fmt.Sprintf("  %s: compressing %s of %s (%s), %s uploaded (%s)", l.name, mib(r), mib(l.total), rate(r-l.lastRead, since), mib(s), rate(s-l.lastSent, since)))
		case "uploading":
			lines = append(lines, fmt.Sprintf("  %s: uploading %s of %s (%s)", l.name, mib(s), mib(l.size.Load()), rate(s-l.lastSent, since)))
		default: // uploaded, or already in the registry: said once
			if !l.reportedEnd {
				l.reportedEnd = true
				lines = append(lines, fmt.Sprintf("  %s: %s, %s compressed to %s", l.name, state, mib(l.total), mib(l.size.Load())))
			}
		}
		l.lastRead, l.lastSent = r, s
	}
	elapsed := now.Sub(p.started).Round(time.Second)
	lines = append([]string{fmt.Sprintf("Push progress after %s: read %s (%s), uploaded %s (%s)",
		elapsed, mib(read), rate(read-p.lastRead, since), mib(sent), rate(sent-p.lastSent, since))}, lines...)
	p.lastRead, p.lastSent, p.last = read, sent, now
	p.ui.Say(strings.Join(lines, "\n"))
}
