//go:build !headless

package main

// Imported for its init, which runs before Fyne's (the headless build
// links no Fyne and needs none): under LANG=C.UTF-8 it keeps Fyne's
// lang package, which reads the locale in its own init, from logging a
// locale it cannot parse (see the package's comment).
import _ "env.vigil-mesh.invalid/localeenv"
