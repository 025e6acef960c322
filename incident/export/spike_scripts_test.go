package export

import (
	"os"
	"testing"
)

func TestSpikeScripts(t *testing.T) {
	lib, err := fonts()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cjk %q %q", lib.cjk, lib.cjkWhy)
	sh := newTextShaper(lib)
	f := newPDFFile(595, 842)
	f.addPage()
	y := 100.0
	for _, s := range []string{"عنوان التقرير 12 اليوم", "ကော်မတီ မဲရုံ", "ምርጫ ጣቢያ ተዘግቷል", "投票站关闭了", "Hello мир 1.  عنوان", "لا إله مَرْحَبًا", "می‌خواهم بروم", "English line one", "English line two", "English line three", "English line four", "English line five", "English line six"} {
		line := sh.line(styleRegular, s)
		x := 50.0
		for _, run := range line.runs {
			pf := f.font(run.src)
			var gs []placed
			for _, g := range run.glyphs {
				pf.use(g.gid, g.text)
				gs = append(gs, placed{g.gid, g.x * 20, g.y * 20, g.span, g.spanEnd, g.mute})
			}
			f.glyphRun(pf, 20, colText, x, y, gs, false, 0)
			x += run.width * 20
		}
		y += 40
	}
	out, _ := os.Create("/tmp/spike/spike.pdf")
	if err := f.write(out); err != nil {
		t.Fatal(err)
	}
	out.Close()
}
