namespace LongCtx.Generation.Sampling;

/// <summary>
/// Sorting of candidates best first (<see cref="CandidateOrder"/>) without allocating: Span.Sort
/// would box the comparer. <see cref="Top"/> is <c>std::partial_sort</c> (heap select, then heap
/// sort of the k kept); <see cref="All"/> is an introsort (quicksort with a median-of-three pivot,
/// insertion sort for short runs, heap sort if the recursion goes too deep). Candidate ids are
/// distinct, so no two candidates compare equal.
/// </summary>
internal static class CandidateSort
{
    private const int InsertionThreshold = 16;

    /// <summary>Moves the <paramref name="k"/> best to the front, best first; the rest follow in no particular order.</summary>
    public static void Top(Span<TokenCandidate> c, int k)
    {
        if (k <= 0)
        {
            return;
        }
        if (k >= c.Length / 4)
        {
            All(c); // a heap of a quarter or more costs more than sorting everything
            return;
        }
        Span<TokenCandidate> heap = c[..k];
        Heapify(heap);
        // heap[0] is the worst of the k best so far; a better candidate replaces it.
        var order = default(CandidateOrder);
        for (int i = k; i < c.Length; i++)
        {
            if (order.Compare(c[i], heap[0]) < 0)
            {
                (c[i], heap[0]) = (heap[0], c[i]);
                SiftDown(heap, 0);
            }
        }
        PopAll(heap);
    }

    /// <summary>Sorts all of <paramref name="c"/>, best first.</summary>
    public static void All(Span<TokenCandidate> c) => IntroSort(c, 2 * (int)Math.Log2(Math.Max(c.Length, 1)) + 2);

    private static void IntroSort(Span<TokenCandidate> c, int depth)
    {
        var order = default(CandidateOrder);
        while (c.Length > InsertionThreshold)
        {
            if (depth-- == 0)
            {
                Heapify(c);
                PopAll(c);
                return;
            }
            // Median of three to c[0], then Hoare partition around it.
            int mid = c.Length / 2;
            int last = c.Length - 1;
            if (order.Compare(c[mid], c[0]) < 0)
            {
                (c[mid], c[0]) = (c[0], c[mid]);
            }
            if (order.Compare(c[last], c[0]) < 0)
            {
                (c[last], c[0]) = (c[0], c[last]);
            }
            if (order.Compare(c[last], c[mid]) < 0)
            {
                (c[last], c[mid]) = (c[mid], c[last]);
            }
            (c[0], c[mid]) = (c[mid], c[0]);
            TokenCandidate pivot = c[0];
            int i = 0;
            int j = c.Length;
            while (true)
            {
                do
                {
                    i++;
                }
                while (i < c.Length && order.Compare(c[i], pivot) < 0);
                do
                {
                    j--;
                }
                while (order.Compare(pivot, c[j]) < 0);
                if (i >= j)
                {
                    break;
                }
                (c[i], c[j]) = (c[j], c[i]);
            }
            (c[0], c[j]) = (c[j], c[0]);
            // Recurse into the smaller side, loop on the larger.
            if (j < c.Length - j - 1)
            {
                IntroSort(c[..j], depth);
                c = c[(j + 1)..];
            }
            else
            {
                IntroSort(c[(j + 1)..], depth);
                c = c[..j];
            }
        }
        for (int i = 1; i < c.Length; i++)
        {
            TokenCandidate x = c[i];
            int j = i - 1;
            while (j >= 0 && order.Compare(x, c[j]) < 0)
            {
                c[j + 1] = c[j];
                j--;
            }
            c[j + 1] = x;
        }
    }

    private static void Heapify(Span<TokenCandidate> heap)
    {
        for (int i = heap.Length / 2 - 1; i >= 0; i--)
        {
            SiftDown(heap, i);
        }
    }

    /// <summary>Heap sort's second half: moving the worst to the end each time leaves the best first.</summary>
    private static void PopAll(Span<TokenCandidate> heap)
    {
        for (int end = heap.Length - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(heap[..end], 0);
        }
    }

    /// <summary>Restores the heap property (worst at the root) below <paramref name="i"/>.</summary>
    private static void SiftDown(Span<TokenCandidate> heap, int i)
    {
        var order = default(CandidateOrder);
        while (true)
        {
            int worst = i;
            int left = 2 * i + 1;
            int right = left + 1;
            if (left < heap.Length && order.Compare(heap[left], heap[worst]) > 0)
            {
                worst = left;
            }
            if (right < heap.Length && order.Compare(heap[right], heap[worst]) > 0)
            {
                worst = right;
            }
            if (worst == i)
            {
                return;
            }
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
