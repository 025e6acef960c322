package mobile

import (
	"errors"
	"path/filepath"
	"strings"
)

// Home is the Vigil home inside the app's own data folder root (Fyne's
// Storage().RootURI().Path() on a phone).
func Home(root string) (string, error) {
	if root == "" {
		return "", errors.New("the app has no data folder")
	}
	if !filepath.IsAbs(root) {
		return "", errors.New("the app's data folder is not an absolute path: " + root)
	}
	// Shared storage is readable by other apps and removable by the user;
	// a store there would be a mistake.
	for _, shared := range []string{"/sdcard", "/storage/emulated", "/storage/self"} {
		if root == shared || strings.HasPrefix(root, shared+"/") {
			return "", errors.New("refusing to keep the store in shared storage: " + root)
		}
	}
	return filepath.Join(root, "vigil"), nil
}
