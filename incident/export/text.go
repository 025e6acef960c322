package export

import "time"

// Text forms appended into a buffer, for writers that print many reports:
// the same text as incident's String methods and FormatTime, without a
// string per call.

// appendTime appends incident.FormatTime(ms).
func appendTime(b []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(b, time.RFC3339)
}
