package store

// MetaPractice is the meta setting that marks this device's store as a
// practice one ("1"). vigil demo sets it; stores made before the genesis
// carried the mark rely on it.
const MetaPractice = "practice"

// Practice reports whether this device holds a practice mission: the
// signed genesis says so (every member sees it), or the store was marked
// as a practice one on this device.
func (s *Store) Practice() bool {
	if ms, err := s.Mission(); err == nil && ms.Mission.Practice {
		return true
	}
	v, err := s.Meta(MetaPractice)
	return err == nil && string(v) == "1"
}
