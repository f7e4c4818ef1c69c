package main

// Cluster name lists shared by the streams of a worker (they all get the same CDS), and the
// per-stream count of distinct EDS names that decides when a stream holds full config.

// nameList is a sorted cluster list with its encoded resource_names and each name's position.
// It is never changed once built.
type nameList struct {
	names   []string
	encoded []byte
	index   map[string]int
}

func newNameList(views [][]byte) *nameList {
	l := &nameList{names: make([]string, len(views)), index: make(map[string]int, len(views))}
	for i, v := range views {
		l.names[i] = string(v)
		l.index[l.names[i]] = i
	}
	l.encoded = encodeNames(l.names)
	return l
}

// equal compares without allocating; a nil list is the empty list.
func (l *nameList) equal(views [][]byte) bool {
	if l == nil {
		return len(views) == 0
	}
	if len(views) != len(l.names) {
		return false
	}
	for i, v := range views {
		if string(v) != l.names[i] {
			return false
		}
	}
	return true
}

func (l *nameList) size() int {
	if l == nil {
		return 0
	}
	return len(l.names)
}

func (l *nameList) resourceNames() []byte {
	if l == nil {
		return nil
	}
	return l.encoded
}

// distinctNames counts distinct names: bits over the stream's cluster list for names on it (all
// of them, in practice), a map for any other. A map per stream cost 10,000 streams a fifth of
// the storm's CPU.
type distinctNames struct {
	list  *nameList
	bits  []uint64
	other map[string]struct{}
	count int
}

func (d *distinctNames) add(name []byte) {
	if d.list != nil {
		if i, ok := d.list.index[string(name)]; ok {
			word, bit := i/64, uint64(1)<<(i%64)
			if d.bits[word]&bit == 0 {
				d.bits[word] |= bit
				d.count++
			}
			return
		}
	}
	if _, ok := d.other[string(name)]; ok {
		return
	}
	if d.other == nil {
		d.other = map[string]struct{}{}
	}
	d.other[string(name)] = struct{}{}
	d.count++
}

// rebase counts the names seen so far against a new cluster list.
func (d *distinctNames) rebase(list *nameList) {
	old, oldBits, other := d.list, d.bits, d.other
	d.list, d.bits, d.other, d.count = list, make([]uint64, (list.size()+63)/64), nil, 0
	if old != nil {
		for i, name := range old.names {
			if oldBits[i/64]&(1<<(i%64)) != 0 {
				d.add([]byte(name))
			}
		}
	}
	for name := range other {
		d.add([]byte(name))
	}
}
