package memory

import "container/list"

// lru is a size-bounded map that evicts its least recently used entry. It is
// not safe for concurrent use: its owners hold their own mutex, so that a
// read-modify-write (Incr, a GCRA step) is atomic without a second lock.
type lru[V any] struct {
	max   int
	order *list.List               // front = most recently used
	items map[string]*list.Element // value is *lruItem[V]
}

type lruItem[V any] struct {
	key   string
	value V
}

func newLRU[V any](maxItems int) *lru[V] {
	return &lru[V]{max: maxItems, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the value for key and marks it recently used.
func (l *lru[V]) get(key string) (V, bool) {
	el, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(el)
	return el.Value.(*lruItem[V]).value, true
}

// put stores value under key, evicting the least recently used entry when
// the map is full.
func (l *lru[V]) put(key string, value V) {
	if el, ok := l.items[key]; ok {
		el.Value.(*lruItem[V]).value = value
		l.order.MoveToFront(el)
		return
	}
	for len(l.items) >= l.max {
		l.removeElement(l.order.Back())
	}
	l.items[key] = l.order.PushFront(&lruItem[V]{key: key, value: value})
}

func (l *lru[V]) remove(key string) {
	if el, ok := l.items[key]; ok {
		l.removeElement(el)
	}
}

func (l *lru[V]) removeElement(el *list.Element) {
	l.order.Remove(el)
	delete(l.items, el.Value.(*lruItem[V]).key)
}

func (l *lru[V]) len() int { return len(l.items) }
