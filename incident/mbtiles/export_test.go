package mbtiles

// ListedFromIndex reports whether m listed its tiles from an index, and
// that index's root page.
func ListedFromIndex(m *Map) (bool, uint32) {
	if len(m.indexes) == 0 {
		return false, 0
	}
	return m.fromIndex, m.indexes[0]
}
