package emulator

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
)

// placeholderJPEG draws the 140x200 grey silhouette served as every
// persona's photo (itsme documents 200x140 px, 24 bpp JPEG).
func placeholderJPEG() []byte {
	const w, h = 140, 200
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bg, fg := color.RGBA{0xdd, 0xdd, 0xdd, 0xff}, color.RGBA{0x88, 0x88, 0x88, 0xff}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := x-w/2, y-70
			head := dx*dx+dy*dy < 35*35
			body := y > 115 && (x-w/2)*(x-w/2) < (y-105)*(y-105)+400
			if head || body {
				img.Set(x, y, fg)
			} else {
				img.Set(x, y, bg)
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
		return nil
	}
	return buf.Bytes()
}

// handlePicture serves the photo to a valid Bearer access token.
func (e *Emulator) handlePicture(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	if _, ok := e.bearer(w, r); !ok {
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(e.picture)
}
