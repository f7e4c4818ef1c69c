package main

import "testing"

func views(names ...string) [][]byte {
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = []byte(n)
	}
	return out
}

func TestDistinctNamesCountsEachNameOnce(t *testing.T) {
	var d distinctNames
	// Before any cluster list (EDS before CDS), and names never on the list, still count.
	d.add([]byte("a"))
	d.add([]byte("zz"))
	d.add([]byte("a"))
	if d.count != 2 {
		t.Fatalf("count %d before a list, want 2", d.count)
	}
	first := newNameList(views("a", "b", "c"))
	d.rebase(first)
	if d.count != 2 {
		t.Fatalf("count %d after rebase, want 2", d.count)
	}
	for _, n := range []string{"b", "b", "c", "a", "zz", "y"} {
		d.add([]byte(n))
	}
	if d.count != 5 {
		t.Fatalf("count %d, want 5 (a b c zz y)", d.count)
	}
	// A new list (CDS changed before full config) keeps what was counted, on or off the list.
	bigger := make([]string, 130)
	for i := range bigger {
		bigger[i] = string(rune('A'+i/26)) + string(rune('a'+i%26))
	}
	d.rebase(newNameList(views(append([]string{"a", "c"}, bigger...)...)))
	if d.count != 5 {
		t.Fatalf("count %d after a second rebase, want 5", d.count)
	}
	d.add([]byte(bigger[129]))
	d.add([]byte(bigger[129]))
	d.add([]byte("b"))
	if d.count != 6 {
		t.Fatalf("count %d, want 6", d.count)
	}
}

func TestNameListEqual(t *testing.T) {
	var none *nameList
	if !none.equal(nil) || none.equal(views("a")) || none.size() != 0 || none.resourceNames() != nil {
		t.Fatal("a nil list is not the empty list")
	}
	l := newNameList(views("a", "b"))
	if !l.equal(views("a", "b")) || l.equal(views("a")) || l.equal(views("a", "c")) || l.equal(views("b", "a")) {
		t.Fatal("equal is wrong")
	}
}
