package dist

// SetMaxCountForTest lowers the element count of one MPI call so that tests
// exercise the splitting of large buffers.
func SetMaxCountForTest(n int) { maxCount = n }
