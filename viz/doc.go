// Package viz draws a training run for `effv2vk visualize`: loss, accuracy
// and learning-rate curves with the progressive stages marked, a grid of
// recent training inputs with their true and predicted labels, the feature
// maps of one layer and per-kernel GPU time.
//
// It only reads a run directory (metrics.jsonl and snapshot.json, written
// by the training loop), so closing the window never affects training.
//
// A frame is built in three steps, each testable on its own:
//   - ReadRun parses the run directory (tolerating missing files and a
//     partly written last line);
//   - Compose lays the panels out for a window size and turns the run into a
//     Scene, a display list of rectangles, lines, glyphs and images;
//   - a Renderer rasterizes the Scene with the draw_* compute kernels of
//     package shaders into a frame tensor that engine shows in a window
//     (engine.Swapchain) or offscreen (engine.Offscreen). Rasterize is the
//     CPU reference of those kernels.
//
// The window is GLFW's (window.go); all Vulkan objects stay in engine.
package viz
