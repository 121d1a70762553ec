package main

import (
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
	"github.com/kefu-im/kefu/internal/files/filestest"
)

// TestPhotoBrowser is a photo sent both ways in real browsers: the shopper picks a big
// photo of a broken cup in the widget, sees its preview and the upload's progress, and
// it goes shrunk to a JPEG; the after-sales agent sees it as a thumbnail in the console
// and answers with a photo of their own, which the shopper opens full size.
func TestPhotoBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "")
	admin := adminAdding(t, k, map[string]string{"username": "li", "password": "agent-secret", "role": "agent", "group": "aftersale"})

	// A 2000×1200 photo with a camera's noise: past 1600 pixels a side and a few MB as
	// a PNG, so the widget shrinks it to a JPEG.
	dir := t.TempDir()
	big := filepath.Join(dir, "破损的杯子.png")
	img := image.NewRGBA(image.Rect(0, 0, 2000, 1200))
	noise := rand.New(rand.NewPCG(1, 2))
	for y := range 1200 {
		for x := range 2000 {
			n := uint8(noise.IntN(24))
			img.Set(x, y, color.RGBA{uint8(x/8) + n, uint8(y/5) + n, 160 + n, 255})
		}
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(big)
	sample := filepath.Join(dir, "正品对照.png")
	if err := os.WriteFile(sample, filestest.PNG(t, 320, 240, 90), 0o644); err != nil {
		t.Fatal(err)
	}

	agent := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(agent, "the agent signs in", signIn(k.url("/console"), "li", "agent-secret"), chromedp.WaitVisible(chromedp.ID("mine-list")))

	b.front(tab)
	b.do(tab, "the shopper asks for a return and gets the agent",
		chromedp.EmulateViewport(1280, 900),
		askInWidget(k.url("/"), "我要退货，收到的杯子碎了"),
		waitJS(`window.Kefu.state().status === "active"`),
	)
	conv, err := chromedp.Run(b.within(tab), chromedp.Evaluate[string](`window.Kefu.state().conversation`))
	if err != nil || conv == "" {
		t.Fatalf("the widget's conversation: %q, %v", conv, err)
	}
	// A slow uplink, so that the upload's progress shows.
	if _, err := chromedp.Call(b.within(tab), network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	slow := []*network.Conditions{{UploadThroughput: 192 << 10, DownloadThroughput: -1}}
	if _, err := chromedp.Call(b.within(tab), network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: slow}); err != nil {
		t.Fatal(err)
	}
	uploading := inWidget(`[data-testid="kefu-photo-progress"]:not([hidden]) i`) + `.some(i => parseFloat(i.style.width) > 0)`
	b.do(tab, "the shopper picks the photo: a preview with the upload's progress",
		chromedp.SetUploadFiles(shadow("kefu-photo-input"), []string{big}),
		chromedp.WaitVisible(shadow("kefu-photo-preview")),
		waitJS(uploading),
	)
	b.screenshot(tab, "photos-1-widget-uploading.png")
	if _, err := chromedp.Call(b.within(tab), network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: []*network.Conditions{{UploadThroughput: -1, DownloadThroughput: -1}}}); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "the photo is sent",
		waitJS(inWidget(`[data-testid="kefu-msg"][data-from="shopper"][data-seq] img`)+`.length === 1`),
		waitJS(`!(`+uploading+`)`),
	)
	b.screenshot(tab, "photos-2-widget-sent.png")

	// What the server keeps: the shrunk JPEG, not the PNG.
	var got struct {
		Messages []struct {
			From        string
			Attachments []struct {
				Type string
				Size int64
				URL  string
			}
		}
	}
	if status := admin.do("GET", "/api/conversations/"+conv, nil, &got); status != 200 {
		t.Fatalf("GET the conversation: %d", status)
	}
	var shopperPhotos int
	for _, m := range got.Messages {
		for _, a := range m.Attachments {
			if m.From == "shopper" {
				shopperPhotos++
				if a.Type != "image/jpeg" || a.Size >= st.Size() || a.URL == "" {
					t.Errorf("stored photo %+v; want a JPEG smaller than the %d-byte PNG", a, st.Size())
				}
			}
		}
	}
	if shopperPhotos != 1 {
		t.Fatalf("the conversation has %d photos of the shopper, want 1", shopperPhotos)
	}

	b.front(agent)
	mine := `#mine-list [data-conversation="` + conv + `"]`
	loaded := `[...document.querySelectorAll('[data-testid="chat-photo"]')].filter(i => i.complete && i.naturalWidth > 0).length`
	b.do(agent, "the agent sees the photo and answers with one",
		chromedp.EmulateViewport(1280, 900),
		chromedp.WaitVisible(chromedp.CSS(mine)),
		chromedp.Click(chromedp.CSS(mine)),
		waitJS(loaded+` === 1`),
		chromedp.SetUploadFiles(chromedp.ID("photo-input"), []string{sample}),
		waitJS(loaded+` === 2`),
	)
	b.screenshot(agent, "photos-3-console.png")
	b.do(agent, "the agent enlarges the shopper's photo",
		chromedp.Click(chromedp.CSS(`[data-testid="chat-photo"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="photo-viewer"]`)),
	)
	b.screenshot(agent, "photos-4-console-viewer.png")
	b.do(agent, "the agent opens a ticket: its evidence links the chat's photos",
		chromedp.Click(chromedp.CSS(`[data-testid="photo-close"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="photo-viewer"]`)),
		chromedp.Click(chromedp.ID("ticket-btn")),
		chromedp.WaitVisible(chromedp.ID("ticket-form")),
		chromedp.SetValue(chromedp.ID("ticket-type"), "return"),
		selectAll("ticket-order"),
		chromedp.SendKeys(chromedp.ID("ticket-order"), "2026120700815"),
		chromedp.SendKeys(chromedp.ID("ticket-reason"), "收到时杯子已碎"),
		chromedp.Click(chromedp.CSS(`[data-testid="ticket-ev-defect_photo"]`)),
		chromedp.SendKeys(chromedp.ID("ticket-remedy"), "退货退款，运费由本店承担"),
		chromedp.Click(chromedp.ID("ticket-submit")),
		waitJS(`document.querySelectorAll('[data-testid="ticket-photos"] [data-testid="chat-photo"]').length === 2`),
	)
	b.screenshot(agent, "photos-5-console-ticket.png")

	b.front(tab)
	agentPhoto := inWidget(`[data-testid="kefu-msg"][data-from="agent"] [data-testid="kefu-photo-thumb"]`)
	b.do(tab, "the shopper opens the agent's photo on a phone",
		chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile),
		waitJS(agentPhoto+`.some(i => i.complete && i.naturalWidth === 320)`),
	)
	b.screenshot(tab, "photos-6-widget-mobile.png")
	b.do(tab, "the viewer",
		chromedp.Evaluate[chromedp.Void](agentPhoto+`[0].click()`),
		waitJS(inWidget(`[data-testid="kefu-photo-viewer"]:not([hidden])`)+`.length === 1`),
	)
	b.screenshot(tab, "photos-7-widget-viewer-mobile.png")
}
