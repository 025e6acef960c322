package app

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // QR photos
	_ "image/png"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// qrImage renders text as a QR code image of at least size points.
func qrImage(text string, size float32) (*canvas.Image, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, 768)
	if err != nil {
		return nil, err
	}
	img := canvas.NewImageFromResource(fyne.NewStaticResource("qr.png", png))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSize(size, size))
	return img, nil
}

// ErrNoQR: the image holds no QR code that could be read.
var ErrNoQR = errors.New("no QR code could be read in this image")

// DecodeQR reads the text of the QR code in a PNG or JPEG image.
func DecodeQR(data []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not a PNG or JPEG image: %w", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	hints := map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", ErrNoQR
	}
	return strings.TrimSpace(res.GetText()), nil
}
