package main

// Imported first of all for its init: under LANG=C.UTF-8 it keeps Fyne's
// lang package, which reads the locale in its own init, from logging a
// locale it cannot parse (see the package's comment).
import _ "env.vigil-mesh.invalid/localeenv"
