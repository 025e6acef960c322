module env.vigil-mesh.invalid/localeenv

go 1.26.8
