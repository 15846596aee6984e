"""``make bench``: every benchmark, each printing its own table."""

from benchmarks import bench_gui_memory, bench_gui_stall, bench_index, bench_indexing, bench_knob, bench_track_list

if __name__ == "__main__":
    bench_indexing.main()
    bench_index.main()
    bench_knob.main()
    bench_gui_stall.main()
    bench_track_list.main()
    bench_gui_memory.main()
