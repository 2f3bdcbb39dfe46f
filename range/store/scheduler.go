package store

import "sync"

// scheduler hands range ids with pending work to a fixed pool of workers,
// never to two workers at once.
type scheduler struct {
	mu struct {
		sync.Mutex
		cond     *sync.Cond
		queue    []uint64
		state    map[uint64]uint8
		stopping bool
	}
	wg sync.WaitGroup
}

const (
	stateQueued     = 1 << iota // in queue
	stateProcessing             // a worker holds it
	stateRequeue                // enqueued while processing
)

func newScheduler() *scheduler {
	s := &scheduler{}
	s.mu.cond = sync.NewCond(&s.mu.Mutex)
	s.mu.state = map[uint64]uint8{}
	return s
}

func (s *scheduler) start(workers int, process func(id uint64)) {
	for i := 0; i < workers; i++ {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(process)
		}()
	}
}

func (s *scheduler) work(process func(id uint64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.mu.queue) == 0 && !s.mu.stopping {
			s.mu.cond.Wait()
		}
		if s.mu.stopping {
			return
		}
		id := s.mu.queue[0]
		s.mu.queue = s.mu.queue[1:]
		s.mu.state[id] = stateProcessing
		s.mu.Unlock()
		process(id)
		s.mu.Lock()
		if s.mu.state[id]&stateRequeue != 0 {
			s.mu.state[id] = stateQueued
			s.mu.queue = append(s.mu.queue, id)
			s.mu.cond.Signal()
		} else {
			delete(s.mu.state, id)
		}
	}
}

func (s *scheduler) enqueue(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st := s.mu.state[id]; {
	case st&stateProcessing != 0:
		s.mu.state[id] = st | stateRequeue
	case st&stateQueued != 0:
	default:
		s.mu.state[id] = stateQueued
		s.mu.queue = append(s.mu.queue, id)
		s.mu.cond.Signal()
	}
}

func (s *scheduler) stop() {
	s.mu.Lock()
	s.mu.stopping = true
	s.mu.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}
